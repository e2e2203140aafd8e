import { timingSafeEqual } from 'node:crypto';
import { fail } from '../core/errors.js';
import type { Keyring } from '../core/ports/keyring.js';

/** Lifetime of an anonymous pull token (Docker Hub and ECR Public hand out minutes, not hours). */
export const ANONYMOUS_TOKEN_TTL_S = 300;
const PURPOSE = 'anonymous-pull-token';
const PREFIX = 'b1a.';

/**
 * Bearer tokens `/token` gives callers without credentials: `b1a.<base64url(json)>.<mac>`,
 * carrying the scopes granted (pulls of public repositories only) and an expiry. Self-contained,
 * so any node verifies them.
 */
export class AnonymousTokens {
  constructor(private readonly keyring: Keyring) {}

  static looksLike(token: string): boolean {
    return token.startsWith(PREFIX);
  }

  issue(repositories: string[], now: Date): { token: string; expiresIn: number } {
    const payload = Buffer.from(JSON.stringify({ r: repositories, e: now.getTime() + ANONYMOUS_TOKEN_TTL_S * 1000 })).toString('base64url');
    return { token: `${PREFIX}${payload}.${this.#mac(payload)}`, expiresIn: ANONYMOUS_TOKEN_TTL_S };
  }

  /** The repositories the token may pull and its expiry. Throws `Unauthenticated` when forged or expired. */
  verify(token: string, now: Date): { repositories: string[]; expiresAt: Date } {
    const invalid = () => fail('Unauthenticated', 'the anonymous token is invalid or has expired; request a new one from /token');
    const [payload, mac] = token.slice(PREFIX.length).split('.');
    if (!token.startsWith(PREFIX) || !payload || !mac) throw invalid();
    const expected = Buffer.from(this.#mac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { r?: unknown; e?: unknown };
    if (typeof claims.e !== 'number' || claims.e <= now.getTime() || !Array.isArray(claims.r)) throw invalid();
    return { repositories: claims.r.filter((x): x is string => typeof x === 'string'), expiresAt: new Date(claims.e) };
  }

  #mac(payload: string): string {
    return Buffer.from(this.keyring.mac(PURPOSE, Buffer.from(payload))).toString('base64url');
  }
}
