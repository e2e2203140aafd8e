import { fail, isBerthError } from '../../core/errors.js';
import { scopeName, type EncryptionScope } from '../../core/ports/blob-encryption.js';
import type { BlobDataKey, KeyStore } from '../../core/ports/key-store.js';
import type { Keyring } from '../../core/ports/keyring.js';
import type { KmsCrypto } from '../../core/services/kms/kms-crypto.js';
import type { KmsKeys } from '../../core/services/kms/keys.js';

const ARN_ACCOUNT = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:(\d{12}):key\//;

/** What a wrapping is bound to: the blob and the data key id in its header. */
export interface DataKeyContext {
  digest: string;
  dataKeyId: string;
}

/**
 * Wraps and unwraps blob data keys under a scope: `AES256` seals with the service key (derived
 * from the master key); `KMS` encrypts with the customer key through the key service (so a
 * disabled or deleted key stops it); `KMS_DSSE` does the KMS step and then seals the result with
 * the service key, two independent layers. The blob digest and data key id are bound as
 * encryption context / associated data, so a wrapping cannot be moved to another blob.
 */
export class DataKeyWrapping {
  constructor(
    private readonly store: KeyStore,
    private readonly keyring: Keyring,
    private readonly kms: { keys: KmsKeys; crypto: KmsCrypto } | undefined,
  ) {}

  async wrap(scope: EncryptionScope, dataKey: Buffer, ctx: DataKeyContext, signal: AbortSignal): Promise<BlobDataKey> {
    let wrapped: Uint8Array;
    if (scope.type === 'AES256') {
      wrapped = this.keyring.seal(dataKey, this.#sealContext('aes256', ctx));
    } else {
      const inner = await this.#kms(scope.keyArn, signal, async (key) => this.kms!.crypto.encrypt(key, dataKey, this.#kmsContext(ctx), signal));
      wrapped = scope.type === 'KMS' ? inner : this.keyring.seal(inner, this.#sealContext('dsse', ctx));
    }
    return { digest: ctx.digest, dataKeyId: ctx.dataKeyId, scope: scopeName(scope), wrapped, createdAt: new Date() };
  }

  async unwrap(entry: BlobDataKey, signal: AbortSignal): Promise<Buffer> {
    const ctx = { digest: entry.digest, dataKeyId: entry.dataKeyId };
    if (entry.scope === 'aes256') return Buffer.from(this.keyring.open(entry.wrapped, this.#sealContext('aes256', ctx)));
    const dsse = entry.scope.startsWith('dsse:');
    const keyArn = entry.scope.slice(dsse ? 5 : 4);
    const inner = dsse ? Buffer.from(this.keyring.open(entry.wrapped, this.#sealContext('dsse', ctx))) : Buffer.from(entry.wrapped);
    return this.#kms(keyArn, signal, (key) => this.kms!.crypto.decrypt(key, inner, this.#kmsContext(ctx), signal));
  }

  /** Stores a wrapping (idempotent). */
  put(entry: BlobDataKey, signal: AbortSignal): Promise<void> {
    return this.store.putDataKey(entry, signal);
  }

  /** Runs `work` with the resolved key, turning every key-service failure into `KmsError` naming the key. */
  async #kms<T>(keyArn: string, signal: AbortSignal, work: (key: Awaited<ReturnType<KmsKeys['resolve']>>) => Promise<T>): Promise<T> {
    if (!this.kms) throw fail('KmsError', `KMS key ${keyArn} cannot be used: no key service is configured`, { kmsKey: keyArn });
    try {
      const account = ARN_ACCOUNT.exec(keyArn)?.[1] ?? '';
      return await work(await this.kms.keys.resolve(account, keyArn, signal));
    } catch (err) {
      if (isBerthError(err) && err.code !== 'Internal') {
        throw fail('KmsError', `KMS key ${keyArn} cannot be used: ${err.message}`, { kmsKey: keyArn });
      }
      throw err;
    }
  }

  #sealContext(kind: string, ctx: DataKeyContext): string {
    return `blob-data-key:${kind}:${ctx.digest}:${ctx.dataKeyId}`;
  }

  #kmsContext(ctx: DataKeyContext): Record<string, string> {
    return { 'berth:blob-digest': ctx.digest, 'berth:data-key-id': ctx.dataKeyId };
  }
}
