import { createHash, createHmac } from 'node:crypto';

/**
 * SigV4 signing keys (HMAC chain `AWS4<secret>` → date → region → service → `aws4_request`) with a small
 * bounded LRU in front, since every request of a client on a given day derives the same key.
 *
 * The cache is keyed by a SHA-256 of the secret, never the secret itself, and holds only derived keys
 * (useless for any other day, region or service). Nothing here logs or returns the secret.
 */
export class SigningKeyCache {
  private readonly entries = new Map<string, Buffer>();

  /** @param maxEntries how many derived keys to keep; the least recently used is dropped first. */
  constructor(private readonly maxEntries = 256) {}

  /** The signing key for `secret` on `date` (`YYYYMMDD`) in `region` for `service`. Pure; never throws. */
  get(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${createHash('sha256').update(secret).digest('hex')}/${date}/${region}/${service}`;
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit;
    }
    const key = deriveSigningKey(secret, date, region, service);
    this.entries.set(id, key);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    return key;
  }

  /** How many derived keys are held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }
}

/** The uncached HMAC chain of AWS Signature Version 4. */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  let key = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}

/** Hex HMAC-SHA256 of `data` under `key`: the final signature step. */
export function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** Hex SHA-256 of a UTF-8 string. */
export function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}
