import { fail } from '../core/errors.js';
import type { Keyring } from '../core/ports/keyring.js';
import { awsId, newSecretAccessKey } from './ids.js';

/** Temporary credentials as STS returns them. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: Date;
}

/** What a session token stands for, once opened. */
export interface OpenedSession {
  /** The long-term key the session was issued to; it must still be active for the session to work. */
  parentAccessKeyId: string;
  secretAccessKey: string;
  expiresAt: Date;
}

const CONTEXT = 'sts-session:';

/**
 * STS session credentials without server-side state: the session token IS the sealed session
 * (parent key, secret, expiry), AES-GCM under the master key with the session's access key id as
 * associated data, so any node (or worker) can verify it and a token cannot be moved to another key id.
 */
export class SessionIssuer {
  constructor(private readonly keyring: Keyring) {}

  issue(parentAccessKeyId: string, lifetimeMs: number, now: Date): SessionCredentials {
    const accessKeyId = awsId('ASIA');
    const secretAccessKey = newSecretAccessKey();
    const expiresAt = new Date(now.getTime() + lifetimeMs);
    const sealed = this.keyring.seal(Buffer.from(JSON.stringify({ p: parentAccessKeyId, s: secretAccessKey, e: expiresAt.getTime() })), CONTEXT + accessKeyId);
    return { accessKeyId, secretAccessKey, sessionToken: Buffer.from(sealed).toString('base64'), expiresAt };
  }

  /** Opens the token presented with `accessKeyId`; `undefined` when it was not issued for that key id. */
  open(accessKeyId: string, token: string): OpenedSession | undefined {
    const sealed = Buffer.from(token, 'base64');
    // Only the canonical spelling: base64 decoding would accept several for one sealed session.
    if (sealed.toString('base64') !== token) return undefined;
    let claims: { p?: unknown; s?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(this.keyring.open(sealed, CONTEXT + accessKeyId)).toString('utf8')) as typeof claims;
    } catch {
      return undefined;
    }
    if (typeof claims.p !== 'string' || typeof claims.s !== 'string' || typeof claims.e !== 'number') return undefined;
    return { parentAccessKeyId: claims.p, secretAccessKey: claims.s, expiresAt: new Date(claims.e) };
  }
}

/** STS's bounds: 15 minutes to 36 hours for users, at most one hour for an account root. */
export function sessionLifetimeMs(requestedSeconds: number | undefined, root: boolean): number {
  const seconds = requestedSeconds ?? 43_200;
  if (seconds < 900 || seconds > 129_600) {
    throw fail('ValidationError', `1 validation error detected: Value '${seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 129600`);
  }
  return Math.min(seconds, root ? 3_600 : seconds) * 1000;
}
