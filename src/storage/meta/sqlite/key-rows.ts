/**
 * Row ↔ record mapping of the key store's tables (0006-kms), shared by the SQLite and PostgreSQL
 * key stores so both store exactly the same documents.
 */
import type { BlobDataKey, KeyVersion, KmsAlias, KmsKey } from '../../../core/ports/key-store.js';
import type { KeySchema } from '../migrations/0006-kms.js';

/** A key's JSON document: its record with times as epoch milliseconds. */
type KeyDoc = Omit<KmsKey, 'createdAt' | 'deletionDate'> & { createdAt: number; deletionDate?: number };

export function toDoc(k: KmsKey): string {
  const { createdAt, deletionDate, ...rest } = k;
  return JSON.stringify({ ...rest, createdAt: createdAt.getTime(), ...(deletionDate ? { deletionDate: deletionDate.getTime() } : {}) });
}

export function fromDoc(doc: string): KmsKey {
  const { createdAt, deletionDate, ...rest } = JSON.parse(doc) as KeyDoc;
  return { ...rest, createdAt: new Date(createdAt), ...(deletionDate !== undefined ? { deletionDate: new Date(deletionDate) } : {}) };
}

export function toVersion(r: KeySchema['kms_key_versions']): KeyVersion {
  return {
    keyId: r.key_id, version: r.version, sealed: r.sealed, createdAt: new Date(r.created_at), origin: r.origin as KeyVersion['origin'],
    ...(r.public_key ? { publicKey: r.public_key } : {}),
  };
}

export function toAlias(r: KeySchema['kms_aliases']): KmsAlias {
  return { accountId: r.account_id, aliasName: r.alias_name, targetKeyId: r.target_key_id, createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at) };
}

export function toDataKey(r: KeySchema['blob_data_keys']): BlobDataKey {
  return { digest: r.digest, dataKeyId: r.data_key_id, scope: r.scope, wrapped: r.wrapped, createdAt: new Date(r.created_at) };
}
