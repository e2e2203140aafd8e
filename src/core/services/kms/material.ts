import { constants, createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { kmsFail } from './errors.js';

/**
 * The ciphertext blob of berth's KMS `Encrypt`: self-describing, as AWS's are (Decrypt needs no
 * KeyId), and bound to the encryption context.
 *
 * ```
 *  [1: 0x01][1: n][n: key id (ASCII uuid)][4: key version][12: nonce][ciphertext][16: GCM tag]
 *  associated data = "berth-kms-v1" ‖ key id ‖ version ‖ canonical JSON of the encryption context
 * ```
 */
const FORMAT = 1;
const NONCE = 12;
const TAG = 16;

export type EncryptionContext = Record<string, string>;

/** Sorted-key JSON, so `{a,b}` and `{b,a}` bind the same. */
function canonical(ctx: EncryptionContext | undefined): string {
  return JSON.stringify(Object.keys(ctx ?? {}).sort().map((k) => [k, ctx![k]]));
}

function aad(keyId: string, version: number, ctx: EncryptionContext | undefined): Buffer {
  return Buffer.from(`berth-kms-v1\u0000${keyId}\u0000${version}\u0000${canonical(ctx)}`, 'utf8');
}

export function encryptBlob(material: Buffer, keyId: string, version: number, plaintext: Buffer, ctx: EncryptionContext | undefined): Buffer {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', material, nonce);
  c.setAAD(aad(keyId, version, ctx));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  const id = Buffer.from(keyId, 'ascii');
  const v = Buffer.alloc(4);
  v.writeUInt32BE(version);
  return Buffer.concat([Buffer.of(FORMAT, id.length), id, v, nonce, body, c.getAuthTag()]);
}

/** The key id and version a ciphertext blob names; throws `InvalidCiphertextException`. */
export function parseBlob(blob: Buffer): { keyId: string; version: number; rest: Buffer } {
  const bad = () => kmsFail('InvalidCiphertextException', 'The ciphertext is invalid or was not produced by this key service');
  if (blob.length < 2 || blob[0] !== FORMAT) throw bad();
  const n = blob[1]!;
  if (blob.length < 2 + n + 4 + NONCE + TAG) throw bad();
  const keyId = blob.subarray(2, 2 + n).toString('ascii');
  if (!/^[0-9a-f-]{36}$/.test(keyId)) throw bad();
  return { keyId, version: blob.readUInt32BE(2 + n), rest: blob.subarray(2 + n + 4) };
}

export function decryptBlob(material: Buffer, keyId: string, version: number, rest: Buffer, ctx: EncryptionContext | undefined): Buffer {
  try {
    const d = createDecipheriv('aes-256-gcm', material, rest.subarray(0, NONCE));
    d.setAAD(aad(keyId, version, ctx));
    d.setAuthTag(rest.subarray(rest.length - TAG));
    return Buffer.concat([d.update(rest.subarray(NONCE, rest.length - TAG)), d.final()]);
  } catch {
    // AWS's wording: a wrong context and a tampered blob are indistinguishable on purpose.
    throw kmsFail('InvalidCiphertextException', 'The ciphertext or its encryption context is invalid');
  }
}

export const SIGNING_ALGORITHMS: Record<string, string[]> = {
  ECC_NIST_P256: ['ECDSA_SHA_256'],
  RSA_2048: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256'],
};

/** A new asymmetric signing key pair: PKCS#8 private key (DER) and SubjectPublicKeyInfo (DER). */
export function generateSigningPair(spec: string): { privateDer: Buffer; publicDer: Buffer } {
  const pair = spec === 'ECC_NIST_P256'
    ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateDer: pair.privateKey.export({ format: 'der', type: 'pkcs8' }),
    publicDer: pair.publicKey.export({ format: 'der', type: 'spki' }),
  };
}

function signOptions(key: KeyObject, alg: string): KeyObject | { key: KeyObject; padding: number; saltLength: number } {
  // KMS's PSS uses a salt as long as the digest.
  if (alg === 'RSASSA_PSS_SHA_256') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  return key;
}

function rawOnly(isDigest: boolean, alg: string): void {
  if (isDigest) throw kmsFail('UnsupportedOperationException', `berth signs RAW messages only; MessageType DIGEST is not supported for ${alg}`);
}

/** Signs `message` with SHA-256 (DER-encoded ECDSA signatures, as KMS returns them). */
export function signMessage(privateDer: Buffer, alg: string, message: Buffer, isDigest: boolean): Buffer {
  rawOnly(isDigest, alg);
  const key = createPrivateKey({ key: privateDer, format: 'der', type: 'pkcs8' });
  return sign('sha256', message, signOptions(key, alg));
}

export function verifyMessage(publicDer: Buffer, alg: string, message: Buffer, isDigest: boolean, signature: Buffer): boolean {
  rawOnly(isDigest, alg);
  const key = createPublicKey({ key: publicDer, format: 'der', type: 'spki' });
  return verify('sha256', message, signOptions(key, alg) as KeyObject, signature);
}
