import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../core/access.js';
import { MemorySignInFailures } from '../core/memory-limits.js';
import type { FailureRule, SignInFailures } from '../core/ports/shared-limits.js';

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
 * The counters live in a {@link SignInFailures} store: process memory for one node, the shared
 * PostgreSQL table when several nodes serve one registry.
 */
export class SignInThrottle {
  constructor(private readonly failures: SignInFailures = new MemorySignInFailures()) {}

  /** Seconds to wait when locked, else 0. */
  async lockedFor(keys: string[], now = Date.now(), signal = AbortSignal.timeout(5000)): Promise<number> {
    const until = await this.failures.lockedUntil(keys, signal);
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  fail(keys: FailureRule[], now = Date.now(), signal = AbortSignal.timeout(5000)): Promise<void> {
    return this.failures.fail(keys, now, signal);
  }

  succeed(key: string, signal = AbortSignal.timeout(5000)): Promise<void> {
    return this.failures.succeed(key, signal);
  }
}
