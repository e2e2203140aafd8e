import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../core/access.js';

/** Console sessions live this long; signing in again starts a new one. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
export const SESSION_COOKIE = 'berth_session';

/** What the signed session cookie holds: who, until when. No secret, no permission: IAM decides per request. */
export interface SessionClaims {
  accountId: string;
  /** '' for the account root. */
  userName: string;
  expiresAt: number;
}

const cookieOptions = (req: FastifyRequest) => ({
  path: '/ui', httpOnly: true, sameSite: 'strict' as const, secure: req.protocol === 'https', signed: true,
});

export function writeSession(req: FastifyRequest, reply: FastifyReply, claims: SessionClaims): void {
  reply.setCookie(SESSION_COOKIE, Buffer.from(JSON.stringify(claims)).toString('base64url'), { ...cookieOptions(req), expires: new Date(claims.expiresAt) });
}

export function clearSession(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
}

/** The session's claims when the cookie is present, correctly signed (HMAC by @fastify/cookie) and not expired. */
export function readSession(req: FastifyRequest, now = Date.now()): SessionClaims | undefined {
  const raw = req.cookies[SESSION_COOKIE];
  if (!raw) return undefined;
  const unsigned = req.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return undefined;
  try {
    const c = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as Partial<SessionClaims>;
    if (typeof c.accountId !== 'string' || typeof c.userName !== 'string' || typeof c.expiresAt !== 'number' || c.expiresAt <= now) return undefined;
    return { accountId: c.accountId, userName: c.userName, expiresAt: c.expiresAt };
  } catch {
    return undefined;
  }
}

/** The short name shown for a principal in the header. */
export const displayName = (p: Principal & { kind: 'iam' }): string => (p.userName ? `${p.userName} @ ${p.accountId}` : `root @ ${p.accountId}`);

/**
 * Sign-in throttling: after 5 failures for one (address, account, user) — or 20 from one address —
 * within 15 minutes, further attempts are refused for 5 minutes, before any password is checked.
 * In process memory (per worker), bounded by clearing when it grows past 10,000 keys.
 */
export class SignInThrottle {
  readonly #fails = new Map<string, { count: number; first: number; lockedUntil: number }>();

  /** Seconds to wait when locked, else 0. */
  lockedFor(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const k of keys) {
      const e = this.#fails.get(k);
      if (e && e.lockedUntil > now) wait = Math.max(wait, Math.ceil((e.lockedUntil - now) / 1000));
    }
    return wait;
  }

  fail(keys: { key: string; limit: number }[], now = Date.now()): void {
    if (this.#fails.size > 10_000) this.#fails.clear();
    for (const { key, limit } of keys) {
      const e = this.#fails.get(key);
      const fresh = !e || now - e.first > 15 * 60_000;
      const next = fresh ? { count: 1, first: now, lockedUntil: 0 } : { ...e, count: e.count + 1 };
      if (next.count >= limit) next.lockedUntil = now + 5 * 60_000;
      this.#fails.set(key, next);
    }
  }

  succeed(key: string): void {
    this.#fails.delete(key);
  }
}
