import { randomBytes } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** An AWS-shaped identifier: a 4-letter prefix and `length` base32 characters (AKIA…, AIDA…, AGPA…, ANPA…). */
export function awsId(prefix: 'AKIA' | 'AIDA' | 'AGPA' | 'ANPA' | 'AROA' | 'ASIA', length = 16): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}

/** A 40-character secret access key (30 random bytes, base64 without padding ambiguity). */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}
