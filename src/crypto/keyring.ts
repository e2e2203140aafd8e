import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { fail } from '../core/errors.js';
import type { Keyring } from '../core/ports/keyring.js';

const VERSION = 1;
const NONCE = 12;
const TAG = 16;

/**
 * {@link Keyring} over a 32-byte master key. Layout of a sealed secret:
 *
 * ```
 *  [1: version][12: nonce][n: ciphertext][16: GCM tag]
 * ```
 */
export class MasterKeyring implements Keyring {
  readonly #sealKey: Buffer;
  readonly #macKeys = new Map<string, Buffer>();

  constructor(private readonly masterKey: Uint8Array) {
    if (masterKey.byteLength !== 32) throw new Error('the master key must be 32 bytes');
    this.#sealKey = this.#derive('seal');
  }

  seal(plaintext: Uint8Array, context: string): Uint8Array {
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKey, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), nonce, body, cipher.getAuthTag()]);
  }

  open(sealed: Uint8Array, context: string): Uint8Array {
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (buf.length < 1 + NONCE + TAG || buf[0] !== VERSION) throw fail('Internal', 'sealed secret has an unknown format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#sealKey, buf.subarray(1, 1 + NONCE));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(buf.subarray(buf.length - TAG));
      return Buffer.concat([decipher.update(buf.subarray(1 + NONCE, buf.length - TAG)), decipher.final()]);
    } catch {
      throw fail('Internal', 'sealed secret cannot be opened: wrong master key or tampered data');
    }
  }

  mac(purpose: string, data: Uint8Array): Uint8Array {
    let key = this.#macKeys.get(purpose);
    if (!key) {
      key = this.#derive(`mac:${purpose}`);
      this.#macKeys.set(purpose, key);
    }
    return createHmac('sha256', key).update(data).digest();
  }

  #derive(info: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.masterKey, Buffer.from('berth'), Buffer.from(info), 32));
  }
}
