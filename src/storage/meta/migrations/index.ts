import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SchemaTypes } from './dialect.js';
import { initialSchema } from './0001-initial.js';
import { ecrSchema } from './0002-ecr.js';
import { identitySchema } from './0003-identity.js';
import { accountNamespacesSchema } from './0004-account-namespaces.js';
import { imagePushOrderSchema } from './0005-image-push-order.js';
import { kmsSchema } from './0006-kms.js';
import { lifecycleSchema } from './0007-lifecycle.js';
import { scanningSchema } from './0008-scanning.js';
import { publicSchema } from './0009-public.js';
import { sharedLimitsSchema } from './0010-shared-limits.js';
import { inventoryIndexSchema } from './0012-inventory-index.js';
import { scanAdvisoriesSchema } from './0013-scan-advisories.js';

export { SQLITE_TYPES, POSTGRES_TYPES, type SchemaTypes } from './dialect.js';
export type { MetaSchema, LifecycleSchema } from './schema.js';

/**
 * Every metadata migration by name, in apply order (kysely sorts names). Listed here rather than
 * discovered on disk so the same code runs from `src` under tsx and from compiled `dist`.
 * Append new entries; never edit or rename an applied one.
 */
export function metaMigrations(types: SchemaTypes): Record<string, Migration> {
  return {
    '0001-initial': initialSchema(types),
    '0002-ecr': ecrSchema(types),
    '0003-identity': identitySchema(types),
    '0004-account-namespaces': accountNamespacesSchema(types),
    '0005-image-push-order': imagePushOrderSchema(types),
    '0006-kms': kmsSchema(types),
    '0007-lifecycle': lifecycleSchema(types),
    '0008-scanning': scanningSchema(types),
    '0009-public': publicSchema(types),
    '0010-shared-limits': sharedLimitsSchema(types),
    '0012-inventory-index': inventoryIndexSchema(types),
    '0013-scan-advisories': scanAdvisoriesSchema(types),
  };
}

/**
 * Applies every pending migration. Throws the first migration error (with the failed migration's
 * name in the message) after kysely has stopped.
 */
export async function migrateMetaStore(db: Kysely<unknown>, types: SchemaTypes): Promise<void> {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(metaMigrations(types)) };
  // Unordered: migration numbers are handed out to features built in parallel, so a database may
  // already have a later number (e.g. 0007–0009) when an earlier one (0006-kms) lands; kysely
  // would otherwise refuse it as "corrupted". Every migration here only adds its own tables and
  // columns, so applying a late-landing one after higher numbers is safe.
  const { error, results } = await new Migrator({ db, provider, allowUnorderedMigrations: true }).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`metadata migration ${failed} failed: ${String(error)}`, { cause: error });
  }
}
