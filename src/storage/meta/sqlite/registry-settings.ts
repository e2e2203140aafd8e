import type { Kysely } from 'kysely';
import type { MetaSchema } from '../migrations/index.js';
import type { Statements } from './statements.js';

/*
 * Registry-level state per account: the registry policy and ECR account settings. Rows exist only
 * for values that were set; each function is one statement.
 */

export function getRegistryPolicy(db: Kysely<MetaSchema>, sql: Statements, accountId: string): string | undefined {
  return sql.get(db.selectFrom('registry_policies').select('policy').where('account_id', '=', accountId))?.policy;
}

export function setRegistryPolicy(db: Kysely<MetaSchema>, sql: Statements, accountId: string, policy: string | undefined): void {
  if (policy === undefined) {
    sql.run(db.deleteFrom('registry_policies').where('account_id', '=', accountId));
    return;
  }
  sql.run(db.insertInto('registry_policies').values({ account_id: accountId, policy })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ policy })));
}

export function getAccountSetting(db: Kysely<MetaSchema>, sql: Statements, accountId: string, name: string): string | undefined {
  return sql.get(db.selectFrom('account_settings').select('value')
    .where('account_id', '=', accountId).where('name', '=', name))?.value;
}

export function putAccountSetting(db: Kysely<MetaSchema>, sql: Statements, accountId: string, name: string, value: string): void {
  sql.run(db.insertInto('account_settings').values({ account_id: accountId, name, value })
    .onConflict((oc) => oc.columns(['account_id', 'name']).doUpdateSet({ value })));
}
