import type { Keyring } from '../../core/ports/keyring.js';
import type { MaterialSealer } from '../../core/ports/material-sealer.js';

/** {@link MaterialSealer} over the master keyring (AES-256-GCM, context as associated data). */
export class KeyringSealer implements MaterialSealer {
  readonly name = 'master-key';
  constructor(private readonly keyring: Keyring) {}
  seal(plaintext: Uint8Array, context: string): Promise<Uint8Array> {
    return Promise.resolve(this.keyring.seal(plaintext, context));
  }
  open(sealed: Uint8Array, context: string): Promise<Uint8Array> {
    return Promise.resolve().then(() => this.keyring.open(sealed, context));
  }
}
