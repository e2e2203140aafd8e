/**
 * The server's secret-keeping: encryption of secrets at rest and MACs for self-contained tokens,
 * all under one master key that never leaves the process. Keys for each purpose are derived, so
 * a MAC key can never decrypt a secret.
 */
export interface Keyring {
  /**
   * Encrypts `plaintext` (AES-256-GCM, random nonce). `context` is bound as associated data: the
   * ciphertext only opens under the same context (e.g. the access key id it belongs to).
   */
  seal(plaintext: Uint8Array, context: string): Uint8Array;

  /** Decrypts what {@link seal} produced. Throws `Internal` when tampered with or under another key. */
  open(ciphertext: Uint8Array, context: string): Uint8Array;

  /** HMAC-SHA256 of `data` under the key derived for `purpose`. */
  mac(purpose: string, data: Uint8Array): Uint8Array;
}
