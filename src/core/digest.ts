import { fail } from './errors.js';

/** A validated content digest, `algorithm:hex`. */
export type Digest = string & { readonly __digest: unique symbol };
export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^(sha256|sha512):([a-f0-9]+)$/;

/** Parses a digest string; throws `InvalidDigest` for anything but sha256/sha512 with lowercase hex of the right length. */
export function parseDigest(value: string): { digest: Digest; algorithm: DigestAlgorithm; hex: string } {
  const m = DIGEST_RE.exec(value);
  const algorithm = m?.[1] as DigestAlgorithm | undefined;
  const hex = m?.[2];
  if (!algorithm || !hex || hex.length !== HEX_LENGTH[algorithm]) {
    throw fail('InvalidDigest', 'invalid digest: expected sha256:<64 hex> or sha512:<128 hex>', {
      digest: value.slice(0, 200),
    });
  }
  return { digest: value as Digest, algorithm, hex };
}

export function isDigest(value: string): boolean {
  const m = DIGEST_RE.exec(value);
  return !!m && m[2]!.length === HEX_LENGTH[m[1] as DigestAlgorithm];
}

export function asDigest(value: string): Digest {
  return parseDigest(value).digest;
}
