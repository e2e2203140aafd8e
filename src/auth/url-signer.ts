import { timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../core/ports/keyring.js';

const PURPOSE = 'download-url';

/**
 * Time-limited download URLs (ECR `GetDownloadUrlForLayer`): the `/v2` blob path plus an expiry
 * and a MAC over both and the account whose host serves it, so the URL works without credentials
 * until it expires, for that blob of that account's repository only.
 */
export class UrlSigner {
  constructor(private readonly keyring: Keyring) {}

  /** The query string (without `?`) that makes `path` of `accountId`'s registry downloadable until `expiresAt`. */
  sign(accountId: string, path: string, expiresAt: Date): string {
    const expires = String(Math.floor(expiresAt.getTime() / 1000));
    return `X-Berth-Expires=${expires}&X-Berth-Signature=${this.#mac(accountId, path, expires)}`;
  }

  /** True when `query` carries a valid, unexpired signature for `path` of `accountId`'s registry. */
  verify(accountId: string, path: string, query: Record<string, string | undefined>, now: Date): boolean {
    const expires = query['X-Berth-Expires'];
    const signature = query['X-Berth-Signature'];
    if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return false;
    if (Number(expires) * 1000 <= now.getTime()) return false;
    const expected = Buffer.from(this.#mac(accountId, path, expires));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #mac(accountId: string, path: string, expires: string): string {
    return Buffer.from(this.keyring.mac(PURPOSE, Buffer.from(`${accountId}\n${path}\n${expires}`))).toString('base64url');
  }
}
