/**
 * Seals key material at rest: the master key by default, or an external AWS KMS key
 * (see external-sealer.ts). Asynchronous because an external KMS is a network call.
 */
export interface MaterialSealer {
  /** A short name for logs and docs: `master-key` or the external key ARN. */
  readonly name: string;
  seal(plaintext: Uint8Array, context: string): Promise<Uint8Array>;
  /** Throws when the sealed bytes were tampered with or sealed under another key. */
  open(sealed: Uint8Array, context: string): Promise<Uint8Array>;
}

