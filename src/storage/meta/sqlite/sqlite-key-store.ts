import type { Kysely } from 'kysely';
import { fail } from '../../../core/errors.js';
import type { BlobDataKey, KeyStore, KeyVersion, KmsAlias, KmsKey } from '../../../core/ports/key-store.js';
import type { KeySchema } from '../migrations/0006-kms.js';
import { fromDoc, toAlias, toDataKey, toDoc, toVersion } from './key-rows.js';
import { openSqlite } from './open.js';
import { bytesParam } from './rows.js';
import type { Statements } from './statements.js';

/**
 * Opens the key store on the SQLite metadata file at `path` (its own connection; `':memory:'` for
 * a throwaway one, which is what the in-memory configuration uses) and applies pending migrations.
 */
export async function openSqliteKeyStore(opts: { path: string }): Promise<SqliteKeyStore> {
  const { db, sql } = await openSqlite<KeySchema>(opts.path);
  return new SqliteKeyStore(db, sql);
}

/** {@link KeyStore} on SQLite: kysely builds the SQL, better-sqlite3 runs it synchronously. */
export class SqliteKeyStore implements KeyStore {
  constructor(private readonly db: Kysely<KeySchema>, private readonly sql: Statements) {}

  async createKey(key: KmsKey, first: KeyVersion, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { db, sql } = this;
    sql.write(() => {
      if (sql.get(db.selectFrom('kms_keys').select('key_id').where('key_id', '=', key.keyId))) {
        throw fail('EntityAlreadyExists', 'key id already in use', { keyId: key.keyId });
      }
      sql.run(db.insertInto('kms_keys').values({ key_id: key.keyId, account_id: key.accountId, doc: toDoc(key) }));
      this.#insertVersion(first);
    });
  }

  #insertVersion(v: KeyVersion): void {
    this.sql.run(this.db.insertInto('kms_key_versions').values({
      key_id: v.keyId, version: v.version, sealed: bytesParam(v.sealed), public_key: v.publicKey ? bytesParam(v.publicKey) : null,
      origin: v.origin, created_at: v.createdAt.getTime(),
    }));
  }

  async getKey(keyId: string, signal: AbortSignal): Promise<KmsKey | undefined> {
    signal.throwIfAborted();
    const row = this.sql.get(this.db.selectFrom('kms_keys').select('doc').where('key_id', '=', keyId));
    return row && fromDoc(row.doc);
  }

  async listKeys(accountId: string, page: { marker?: string; limit: number }, signal: AbortSignal): Promise<KmsKey[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('kms_keys').select('doc').where('account_id', '=', accountId).orderBy('key_id').limit(page.limit);
    if (page.marker !== undefined) q = q.where('key_id', '>', page.marker);
    return this.sql.all(q).map((r) => fromDoc(r.doc));
  }

  async updateKey(keyId: string, update: (key: KmsKey) => KmsKey, signal: AbortSignal): Promise<KmsKey> {
    signal.throwIfAborted();
    const { db, sql } = this;
    return sql.write(() => {
      const row = sql.get(db.selectFrom('kms_keys').select('doc').where('key_id', '=', keyId));
      if (!row) throw fail('NoSuchEntity', `Key '${keyId}' does not exist`, { keyId });
      const next = update(fromDoc(row.doc));
      sql.run(db.updateTable('kms_keys').set({ doc: toDoc(next) }).where('key_id', '=', keyId));
      return next;
    });
  }

  async addVersion(version: KeyVersion, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { db, sql } = this;
    sql.write(() => {
      const row = sql.get(db.selectFrom('kms_keys').select('doc').where('key_id', '=', version.keyId));
      if (!row) throw fail('NoSuchEntity', `Key '${version.keyId}' does not exist`, { keyId: version.keyId });
      this.#insertVersion(version);
      sql.run(db.updateTable('kms_keys').set({ doc: toDoc({ ...fromDoc(row.doc), currentVersion: version.version }) }).where('key_id', '=', version.keyId));
    });
  }

  async getVersion(keyId: string, version: number, signal: AbortSignal): Promise<KeyVersion | undefined> {
    signal.throwIfAborted();
    const row = this.sql.get(this.db.selectFrom('kms_key_versions').selectAll().where('key_id', '=', keyId).where('version', '=', version));
    return row && toVersion(row);
  }

  async listVersions(keyId: string, signal: AbortSignal): Promise<KeyVersion[]> {
    signal.throwIfAborted();
    return this.sql.all(this.db.selectFrom('kms_key_versions').selectAll().where('key_id', '=', keyId).orderBy('version')).map(toVersion);
  }

  async deleteKey(keyId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { db, sql } = this;
    sql.write(() => {
      sql.run(db.deleteFrom('kms_aliases').where('target_key_id', '=', keyId));
      sql.run(db.deleteFrom('kms_key_versions').where('key_id', '=', keyId));
      sql.run(db.deleteFrom('kms_keys').where('key_id', '=', keyId));
    });
  }

  async createAlias(alias: KmsAlias, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { db, sql } = this;
    sql.write(() => {
      if (sql.get(db.selectFrom('kms_aliases').select('alias_name').where('account_id', '=', alias.accountId).where('alias_name', '=', alias.aliasName))) {
        throw fail('EntityAlreadyExists', `An alias with the name arn:aws:kms:…:${alias.accountId}:${alias.aliasName} already exists`, { aliasName: alias.aliasName });
      }
      sql.run(db.insertInto('kms_aliases').values({
        account_id: alias.accountId, alias_name: alias.aliasName, target_key_id: alias.targetKeyId,
        created_at: alias.createdAt.getTime(), updated_at: alias.updatedAt.getTime(),
      }));
    });
  }

  async updateAlias(accountId: string, aliasName: string, targetKeyId: string, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const n = this.sql.run(this.db.updateTable('kms_aliases').set({ target_key_id: targetKeyId, updated_at: at.getTime() })
      .where('account_id', '=', accountId).where('alias_name', '=', aliasName));
    if (n === 0) throw fail('NoSuchEntity', `Alias ${aliasName} is not found.`, { aliasName });
  }

  async deleteAlias(accountId: string, aliasName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const n = this.sql.run(this.db.deleteFrom('kms_aliases').where('account_id', '=', accountId).where('alias_name', '=', aliasName));
    if (n === 0) throw fail('NoSuchEntity', `Alias ${aliasName} is not found.`, { aliasName });
  }

  async getAlias(accountId: string, aliasName: string, signal: AbortSignal): Promise<KmsAlias | undefined> {
    signal.throwIfAborted();
    const row = this.sql.get(this.db.selectFrom('kms_aliases').selectAll().where('account_id', '=', accountId).where('alias_name', '=', aliasName));
    return row && toAlias(row);
  }

  async listAliases(accountId: string, keyId: string | undefined, signal: AbortSignal): Promise<KmsAlias[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('kms_aliases').selectAll().where('account_id', '=', accountId).orderBy('alias_name');
    if (keyId !== undefined) q = q.where('target_key_id', '=', keyId);
    return this.sql.all(q).map(toAlias);
  }

  async putDataKey(e: BlobDataKey, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.sql.run(this.db.insertInto('blob_data_keys').values({
      digest: e.digest, data_key_id: e.dataKeyId, scope: e.scope, wrapped: bytesParam(e.wrapped), created_at: e.createdAt.getTime(),
    }).onConflict((oc) => oc.columns(['digest', 'data_key_id', 'scope']).doNothing()));
  }

  async getDataKeys(digest: string, dataKeyId: string, signal: AbortSignal): Promise<BlobDataKey[]> {
    signal.throwIfAborted();
    return this.sql.all(this.db.selectFrom('blob_data_keys').selectAll().where('digest', '=', digest).where('data_key_id', '=', dataKeyId).orderBy('created_at'))
      .map(toDataKey);
  }

  async hasDataKeys(digest: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.get(this.db.selectFrom('blob_data_keys').select('digest').where('digest', '=', digest).limit(1)) !== undefined;
  }

  async deleteDataKeys(digest: string, dataKeyId: string | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    let q = this.db.deleteFrom('blob_data_keys').where('digest', '=', digest);
    if (dataKeyId !== undefined) q = q.where('data_key_id', '=', dataKeyId);
    this.sql.run(q);
  }

  async close(): Promise<void> {
    this.sql.close();
  }
}
