import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { fail } from '../../errors.js';

/** scrypt cost: N=2^15, r=8, p=1 (OWASP's minimum for scrypt), 32-byte key, 16-byte salt. */
const PARAMS = { N: 32768, r: 8, p: 1 } as const;
const KEY_LEN = 32;

function derive(password: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  const opts: ScryptOptions = { ...p, maxmem: 128 * p.N * p.r * 2 };
  return new Promise((done, reject) => scrypt(password.normalize('NFC'), salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : done(key))));
}

/** `scrypt$N$r$p$<salt b64>$<key b64>` of `password`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches `hash` (constant-time compare; a malformed hash never matches). */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = hash.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const got = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * A hash to verify against when there is no profile, so a missing user costs the same time as a
 * wrong password: the same parameters, a random salt and a random key that no password derives.
 * Made without running scrypt (which took ~100 ms of CPU at every server start, issue 12): only
 * the cost of verifying against it matters, and that is the same.
 */
export const DUMMY_HASH = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${randomBytes(16).toString('base64')}$${randomBytes(KEY_LEN).toString('base64')}`;

/**
 * IAM's default password policy: 8 to 128 characters. Throws `ValidationError` with IAM's
 * PasswordPolicyViolation wording.
 */
export function checkPasswordPolicy(password: string): void {
  if (password.length < 8 || password.length > 128) {
    throw Object.assign(fail('ValidationError', 'Password should have a minimum length of 8 and at most 128 characters'), { awsType: 'PasswordPolicyViolation' });
  }
}
