import { randomBytes } from 'node:crypto';
import type { KmsKey } from '../../ports/key-store.js';
import { kmsFail } from './errors.js';
import type { KmsKeys } from './keys.js';
import { decryptBlob, encryptBlob, parseBlob, signMessage, SIGNING_ALGORITHMS, verifyMessage, type EncryptionContext } from './material.js';

/** KMS limit for Encrypt's plaintext. */
const MAX_PLAINTEXT = 4096;

/** The cryptographic operations of the key service on already-resolved (and authorized) keys. */
export class KmsCrypto {
  constructor(private readonly keys: KmsKeys) {}

  async encrypt(key: KmsKey, plaintext: Buffer, ctx: EncryptionContext | undefined, signal: AbortSignal): Promise<Buffer> {
    this.keys.requireUsable(key, 'ENCRYPT_DECRYPT');
    if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsFail('InvalidKeyUsageException', `berth encrypts with symmetric keys only; ${key.arn} is ${key.keySpec}`);
    if (plaintext.length > MAX_PLAINTEXT) throw kmsFail('ValidationException', `Plaintext must be at most ${MAX_PLAINTEXT} bytes`);
    const { secret } = await this.keys.material(key.keyId, key.currentVersion, signal);
    return encryptBlob(secret, key.keyId, key.currentVersion, plaintext, ctx);
  }

  /** The key a ciphertext blob names (for authorization before {@link decrypt}). */
  keyIdOf(blob: Buffer): string {
    return parseBlob(blob).keyId;
  }

  /** Decrypts with the version the blob names, so rotated keys still open old ciphertexts. */
  async decrypt(key: KmsKey, blob: Buffer, ctx: EncryptionContext | undefined, signal: AbortSignal): Promise<Buffer> {
    const parsed = parseBlob(blob);
    if (parsed.keyId !== key.keyId) throw kmsFail('IncorrectKeyException', `The key ID in the request does not identify the KMS key ${key.arn} that encrypted the ciphertext.`);
    this.keys.requireUsable(key, 'ENCRYPT_DECRYPT');
    const { secret } = await this.keys.material(key.keyId, parsed.version, signal);
    return decryptBlob(secret, key.keyId, parsed.version, parsed.rest, ctx);
  }

  generateRandom(n: number): Buffer {
    return randomBytes(n);
  }

  /** Data key bytes for `KeySpec` / `NumberOfBytes` (exactly one of them, as KMS demands). */
  dataKeyLength(spec: unknown, bytes: unknown): number {
    if (spec !== undefined && bytes !== undefined) throw kmsFail('ValidationException', 'Please specify either number of bytes or key spec.');
    if (spec === 'AES_128') return 16;
    if (spec === 'AES_256') return 32;
    if (typeof bytes === 'number') return bytes;
    throw kmsFail('ValidationException', 'Please specify either number of bytes or key spec.');
  }

  async sign(key: KmsKey, message: Buffer, messageType: string, algorithm: string, signal: AbortSignal): Promise<Buffer> {
    this.keys.requireUsable(key, 'SIGN_VERIFY');
    this.#checkAlgorithm(key, algorithm);
    const { secret } = await this.keys.material(key.keyId, key.currentVersion, signal);
    return signMessage(secret, algorithm, message, messageType === 'DIGEST');
  }

  async verify(key: KmsKey, message: Buffer, messageType: string, algorithm: string, signature: Buffer, signal: AbortSignal): Promise<boolean> {
    this.keys.requireUsable(key, 'SIGN_VERIFY');
    this.#checkAlgorithm(key, algorithm);
    return verifyMessage(await this.publicKey(key, signal), algorithm, message, messageType === 'DIGEST', signature);
  }

  async publicKey(key: KmsKey, signal: AbortSignal): Promise<Buffer> {
    if (key.keyUsage !== 'SIGN_VERIFY') throw kmsFail('UnsupportedOperationException', `${key.arn} is a symmetric key; it has no public key.`);
    if (key.state === 'Disabled') throw kmsFail('DisabledException', `${key.arn} is disabled.`);
    const v = await this.keys.store.getVersion(key.keyId, key.currentVersion, signal);
    return Buffer.from(v!.publicKey!);
  }

  #checkAlgorithm(key: KmsKey, algorithm: string): void {
    if (!(SIGNING_ALGORITHMS[key.keySpec] ?? []).includes(algorithm)) {
      throw kmsFail('InvalidKeyUsageException', `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`);
    }
  }
}
