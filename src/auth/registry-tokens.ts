import { timingSafeEqual } from 'node:crypto';
import { fail } from '../core/errors.js';
import type { Keyring } from '../core/ports/keyring.js';

/** What a registry token (ECR `GetAuthorizationToken`, the password of `AWS:<token>`) stands for. */
export interface TokenClaims {
  accountId: string;
  /** The access key the token was issued to; its status is checked again on every use. */
  accessKeyId: string;
  expiresAt: Date;
}

export const TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000;
const PURPOSE = 'registry-token';
const PREFIX = 'b1.';

/**
 * Self-contained, MAC-protected tokens: any node holding the master key verifies them without a
 * shared session table. `b1.<base64url(json claims)>.<base64url(hmac)>`.
 */
export class RegistryTokens {
  constructor(private readonly keyring: Keyring) {}

  issue(accountId: string, accessKeyId: string, now: Date): { token: string; expiresAt: Date } {
    const expiresAt = new Date(now.getTime() + TOKEN_LIFETIME_MS);
    const payload = Buffer.from(JSON.stringify({ a: accountId, k: accessKeyId, e: expiresAt.getTime() })).toString('base64url');
    const mac = Buffer.from(this.keyring.mac(PURPOSE, Buffer.from(payload))).toString('base64url');
    return { token: `${PREFIX}${payload}.${mac}`, expiresAt };
  }

  /** Throws `Unauthenticated` for a malformed, forged or expired token. */
  verify(token: string, now: Date): TokenClaims {
    const invalid = () => fail('Unauthenticated', 'authorization token is invalid; run aws ecr get-login-password again');
    if (!token.startsWith(PREFIX)) throw invalid();
    const [payload, mac] = token.slice(PREFIX.length).split('.');
    if (!payload || !mac) throw invalid();
    // Compared as text, not decoded: base64url decoding ignores a last character's spare bits, so
    // several spellings would decode to one MAC. Only the canonical spelling is accepted.
    const expected = Buffer.from(Buffer.from(this.keyring.mac(PURPOSE, Buffer.from(payload))).toString('base64url'));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let claims: { a?: unknown; k?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      throw invalid();
    }
    if (typeof claims.a !== 'string' || typeof claims.k !== 'string' || typeof claims.e !== 'number') throw invalid();
    if (claims.e <= now.getTime()) throw fail('Unauthenticated', 'authorization token has expired; run aws ecr get-login-password again');
    return { accountId: claims.a, accessKeyId: claims.k, expiresAt: new Date(claims.e) };
  }
}
