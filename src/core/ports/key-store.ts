/**
 * Persistent state of the built-in key service and of blob encryption: KMS keys, their sealed
 * key material (one row per rotation), aliases, and the wrapped data keys of encrypted blobs.
 *
 * ```
 *  kms_keys            pk(key_id) · account_id · arn · spec · usage · state · policy · tags(json) …
 *    ├──< kms_key_versions   pk(key_id, version) · sealed material · public key · created_at
 *    └──< kms_aliases        pk(account_id, alias_name) · target_key_id
 *  blob_data_keys      pk(digest, data_key_id, scope) · wrapped · created_at
 * ```
 *
 * Key material is stored only sealed (the caller seals it under the master key or an external
 * KMS key); this port never sees plaintext keys. Every method is one atomic step.
 */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface KmsKey {
  keyId: string;
  accountId: string;
  arn: string;
  description: string;
  keySpec: string;
  keyUsage: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY';
  state: KeyState;
  /** `AWS` for service-managed keys such as `aws/ecr`. */
  manager: 'CUSTOMER' | 'AWS';
  createdAt: Date;
  /** When a key pending deletion is destroyed. */
  deletionDate?: Date;
  pendingWindowInDays?: number;
  rotationEnabled: boolean;
  rotationPeriodInDays: number;
  /** The key policy document (JSON text). */
  policy: string;
  tags: { TagKey: string; TagValue: string }[];
  /** The version new ciphertexts use (rotation adds one). */
  currentVersion: number;
}

export interface KeyVersion {
  keyId: string;
  version: number;
  /** Key material sealed by the caller (symmetric key or PKCS#8 private key). */
  sealed: Uint8Array;
  /** SubjectPublicKeyInfo DER for asymmetric keys. */
  publicKey?: Uint8Array;
  createdAt: Date;
  /** How the version came about: the initial material, automatic or on-demand rotation. */
  origin: 'INITIAL' | 'AUTOMATIC' | 'ON_DEMAND';
}

export interface KmsAlias {
  accountId: string;
  aliasName: string;
  targetKeyId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One wrapping of a blob's data key under one key scope (see the blob encryption docs). */
export interface BlobDataKey {
  digest: string;
  /** Hex of the 16-byte id in the stored object's header. */
  dataKeyId: string;
  /** `aes256`, `kms:<key ARN>` or `dsse:<key ARN>`. */
  scope: string;
  wrapped: Uint8Array;
  createdAt: Date;
}

export interface KeyStore {
  /** Stores a new key and its first version atomically. Throws `EntityAlreadyExists` for a used key id. */
  createKey(key: KmsKey, first: KeyVersion, signal: AbortSignal): Promise<void>;

  /** A key by id (in any account), or `undefined`. */
  getKey(keyId: string, signal: AbortSignal): Promise<KmsKey | undefined>;

  /** An account's keys ordered by key id, after `marker` (exclusive), at most `limit`. */
  listKeys(accountId: string, page: { marker?: string; limit: number }, signal: AbortSignal): Promise<KmsKey[]>;

  /**
   * Applies `update` to the stored key inside one write transaction and stores the result
   * (read-modify-write, so concurrent updates never lose each other). Throws `NoSuchEntity`.
   * Resolves with the key as stored.
   */
  updateKey(keyId: string, update: (key: KmsKey) => KmsKey, signal: AbortSignal): Promise<KmsKey>;

  /** Adds a rotation: stores `version` and makes it the key's current version, atomically. */
  addVersion(version: KeyVersion, signal: AbortSignal): Promise<void>;

  /** One version of a key, or `undefined`. */
  getVersion(keyId: string, version: number, signal: AbortSignal): Promise<KeyVersion | undefined>;

  /** Every version of a key, oldest first. */
  listVersions(keyId: string, signal: AbortSignal): Promise<KeyVersion[]>;

  /** Removes a key, its versions and aliases (deletion after the pending window). Idempotent. */
  deleteKey(keyId: string, signal: AbortSignal): Promise<void>;

  /** Creates an alias. Throws `EntityAlreadyExists` when the account already has it. */
  createAlias(alias: KmsAlias, signal: AbortSignal): Promise<void>;

  /** Points an existing alias at another key. Throws `NoSuchEntity`. */
  updateAlias(accountId: string, aliasName: string, targetKeyId: string, at: Date, signal: AbortSignal): Promise<void>;

  /** Deletes an alias. Throws `NoSuchEntity`. */
  deleteAlias(accountId: string, aliasName: string, signal: AbortSignal): Promise<void>;

  /** An alias of an account, or `undefined`. */
  getAlias(accountId: string, aliasName: string, signal: AbortSignal): Promise<KmsAlias | undefined>;

  /** An account's aliases (of one key when `keyId` is given), ordered by name. */
  listAliases(accountId: string, keyId: string | undefined, signal: AbortSignal): Promise<KmsAlias[]>;

  /** Records a wrapping of a blob data key; a no-op when the same (digest, id, scope) exists. */
  putDataKey(entry: BlobDataKey, signal: AbortSignal): Promise<void>;

  /** Every wrapping of one data key of a blob (all scopes), oldest first. */
  getDataKeys(digest: string, dataKeyId: string, signal: AbortSignal): Promise<BlobDataKey[]>;

  /** Whether any wrapping is recorded for a blob (an envelope was stored under this digest). */
  hasDataKeys(digest: string, signal: AbortSignal): Promise<boolean>;

  /** Deletes the wrappings of a blob: of one data key when `dataKeyId` is given, else all. */
  deleteDataKeys(digest: string, dataKeyId: string | undefined, signal: AbortSignal): Promise<void>;

  /** Releases resources. */
  close(): Promise<void>;
}
