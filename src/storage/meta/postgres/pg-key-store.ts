import type { Kysely, Transaction } from 'kysely';
import { fail } from '../../../core/errors.js';
import type { BlobDataKey, KeyStore, KeyVersion, KmsAlias, KmsKey } from '../../../core/ports/key-store.js';
import type { KeySchema } from '../migrations/0006-kms.js';
import { fromDoc, toAlias, toDataKey, toDoc, toVersion } from '../sqlite/key-rows.js';
import { leasePostgres, type PostgresHandle } from './open.js';

/** SQLSTATE unique_violation: another node inserted the same key first. */
const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
}

/** `pg` sends Buffers as bytea; a plain Uint8Array view is copied into one without copying bytes. */
function bytea(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Opens the key store on the PostgreSQL database at `url`, on a lease of the process's one pool
 * (migrated on first use). Throws when the database cannot be reached or migrated.
 */
export async function openPostgresKeyStore(opts: { url: string; poolSize: number }): Promise<PgKeyStore> {
  return new PgKeyStore(await leasePostgres(opts));
}

/**
 * {@link KeyStore} on PostgreSQL: the same tables and documents as the SQLite store (shared
 * mappers in key-rows.ts). Where SQLite's single writer made a check-then-write atomic, nodes
 * sharing the database rely on PostgreSQL instead: a key's read-modify-write holds its row
 * (`select … for update`), so two nodes' updates of one key queue rather than lose each other; a
 * duplicate key id or alias is the primary key's unique violation, reported as the SQLite store's
 * `EntityAlreadyExists`.
 */
export class PgKeyStore implements KeyStore {
  readonly #db: Kysely<KeySchema>;

  /** Use {@link openPostgresKeyStore}; `handle` is released by {@link close}. */
  constructor(private readonly handle: PostgresHandle) {
    // The key tables are part of the shared schema (migration 0006), typed by their own interface.
    this.#db = handle.db as unknown as Kysely<KeySchema>;
  }

  async createKey(key: KmsKey, first: KeyVersion, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    try {
      await this.#db.transaction().execute(async (trx) => {
        await trx.insertInto('kms_keys').values({ key_id: key.keyId, account_id: key.accountId, doc: toDoc(key) }).execute();
        await insertVersion(trx, first);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw fail('EntityAlreadyExists', 'key id already in use', { keyId: key.keyId });
      throw e;
    }
  }

  async getKey(keyId: string, signal: AbortSignal): Promise<KmsKey | undefined> {
    signal.throwIfAborted();
    const row = await this.#db.selectFrom('kms_keys').select('doc').where('key_id', '=', keyId).executeTakeFirst();
    return row && fromDoc(row.doc);
  }

  async listKeys(accountId: string, page: { marker?: string; limit: number }, signal: AbortSignal): Promise<KmsKey[]> {
    signal.throwIfAborted();
    let q = this.#db.selectFrom('kms_keys').select('doc').where('account_id', '=', accountId).orderBy('key_id').limit(page.limit);
    if (page.marker !== undefined) q = q.where('key_id', '>', page.marker);
    return (await q.execute()).map((r) => fromDoc(r.doc));
  }

  async updateKey(keyId: string, update: (key: KmsKey) => KmsKey, signal: AbortSignal): Promise<KmsKey> {
    signal.throwIfAborted();
    return this.#db.transaction().execute(async (trx) => {
      const next = update(await lockedKey(trx, keyId));
      await trx.updateTable('kms_keys').set({ doc: toDoc(next) }).where('key_id', '=', keyId).execute();
      return next;
    });
  }

  async addVersion(version: KeyVersion, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.#db.transaction().execute(async (trx) => {
      const key = await lockedKey(trx, version.keyId);
      await insertVersion(trx, version);
      await trx.updateTable('kms_keys').set({ doc: toDoc({ ...key, currentVersion: version.version }) }).where('key_id', '=', version.keyId).execute();
    });
  }

  async getVersion(keyId: string, version: number, signal: AbortSignal): Promise<KeyVersion | undefined> {
    signal.throwIfAborted();
    const row = await this.#db.selectFrom('kms_key_versions').selectAll().where('key_id', '=', keyId).where('version', '=', version).executeTakeFirst();
    return row && toVersion(row);
  }

  async listVersions(keyId: string, signal: AbortSignal): Promise<KeyVersion[]> {
    signal.throwIfAborted();
    return (await this.#db.selectFrom('kms_key_versions').selectAll().where('key_id', '=', keyId).orderBy('version').execute()).map(toVersion);
  }

  async deleteKey(keyId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('kms_aliases').where('target_key_id', '=', keyId).execute();
      await trx.deleteFrom('kms_key_versions').where('key_id', '=', keyId).execute();
      await trx.deleteFrom('kms_keys').where('key_id', '=', keyId).execute();
    });
  }

  async createAlias(alias: KmsAlias, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    try {
      await this.#db.insertInto('kms_aliases').values({
        account_id: alias.accountId, alias_name: alias.aliasName, target_key_id: alias.targetKeyId,
        created_at: alias.createdAt.getTime(), updated_at: alias.updatedAt.getTime(),
      }).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw fail('EntityAlreadyExists', `An alias with the name arn:aws:kms:…:${alias.accountId}:${alias.aliasName} already exists`, { aliasName: alias.aliasName });
      throw e;
    }
  }

  async updateAlias(accountId: string, aliasName: string, targetKeyId: string, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const r = await this.#db.updateTable('kms_aliases').set({ target_key_id: targetKeyId, updated_at: at.getTime() })
      .where('account_id', '=', accountId).where('alias_name', '=', aliasName).executeTakeFirst();
    if (r.numUpdatedRows === 0n) throw fail('NoSuchEntity', `Alias ${aliasName} is not found.`, { aliasName });
  }

  async deleteAlias(accountId: string, aliasName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const r = await this.#db.deleteFrom('kms_aliases').where('account_id', '=', accountId).where('alias_name', '=', aliasName).executeTakeFirst();
    if (r.numDeletedRows === 0n) throw fail('NoSuchEntity', `Alias ${aliasName} is not found.`, { aliasName });
  }

  async getAlias(accountId: string, aliasName: string, signal: AbortSignal): Promise<KmsAlias | undefined> {
    signal.throwIfAborted();
    const row = await this.#db.selectFrom('kms_aliases').selectAll().where('account_id', '=', accountId).where('alias_name', '=', aliasName).executeTakeFirst();
    return row && toAlias(row);
  }

  async listAliases(accountId: string, keyId: string | undefined, signal: AbortSignal): Promise<KmsAlias[]> {
    signal.throwIfAborted();
    let q = this.#db.selectFrom('kms_aliases').selectAll().where('account_id', '=', accountId).orderBy('alias_name');
    if (keyId !== undefined) q = q.where('target_key_id', '=', keyId);
    return (await q.execute()).map(toAlias);
  }

  async putDataKey(e: BlobDataKey, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.#db.insertInto('blob_data_keys').values({
      digest: e.digest, data_key_id: e.dataKeyId, scope: e.scope, wrapped: bytea(e.wrapped), created_at: e.createdAt.getTime(),
    }).onConflict((oc) => oc.columns(['digest', 'data_key_id', 'scope']).doNothing()).execute();
  }

  async getDataKeys(digest: string, dataKeyId: string, signal: AbortSignal): Promise<BlobDataKey[]> {
    signal.throwIfAborted();
    // `scope` breaks ties of equal times, so every node lists the wrappings in one order.
    return (await this.#db.selectFrom('blob_data_keys').selectAll().where('digest', '=', digest).where('data_key_id', '=', dataKeyId)
      .orderBy('created_at').orderBy('scope').execute()).map(toDataKey);
  }

  async hasDataKeys(digest: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return (await this.#db.selectFrom('blob_data_keys').select('digest').where('digest', '=', digest).limit(1).executeTakeFirst()) !== undefined;
  }

  async deleteDataKeys(digest: string, dataKeyId: string | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    let q = this.#db.deleteFrom('blob_data_keys').where('digest', '=', digest);
    if (dataKeyId !== undefined) q = q.where('data_key_id', '=', dataKeyId);
    await q.execute();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** The key, its row locked until the transaction ends (a concurrent update of it waits); throws `NoSuchEntity`. */
async function lockedKey(trx: Transaction<KeySchema>, keyId: string): Promise<KmsKey> {
  const row = await trx.selectFrom('kms_keys').select('doc').where('key_id', '=', keyId).forUpdate().executeTakeFirst();
  if (!row) throw fail('NoSuchEntity', `Key '${keyId}' does not exist`, { keyId });
  return fromDoc(row.doc);
}

async function insertVersion(trx: Transaction<KeySchema>, v: KeyVersion): Promise<void> {
  await trx.insertInto('kms_key_versions').values({
    key_id: v.keyId, version: v.version, sealed: bytea(v.sealed), public_key: v.publicKey ? bytea(v.publicKey) : null,
    origin: v.origin, created_at: v.createdAt.getTime(),
  }).execute();
}
