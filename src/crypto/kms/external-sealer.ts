import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { MaterialSealer } from '../../core/ports/material-sealer.js';

export interface ExternalKmsOptions {
  /** ARN (or id/alias) of the symmetric key in the external AWS KMS that seals berth's key material. */
  keyId: string;
  region: string;
  /** Endpoint override (a KMS-compatible service, e.g. another berth); AWS's own when absent. */
  endpoint?: string;
}

/**
 * Seals berth's KMS key material with a key in an external AWS KMS (the real `@aws-sdk/client-kms`;
 * credentials from the SDK's default chain: environment, shared files, instance roles). The context
 * is bound as KMS encryption context, so sealed material cannot be moved between keys or versions.
 */
export class AwsKmsSealer implements MaterialSealer {
  readonly name: string;
  readonly #client: KMSClient;

  constructor(private readonly opts: ExternalKmsOptions) {
    this.name = opts.keyId;
    this.#client = new KMSClient({ region: opts.region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) });
  }

  async seal(plaintext: Uint8Array, context: string): Promise<Uint8Array> {
    const out = await this.#client.send(new EncryptCommand({ KeyId: this.opts.keyId, Plaintext: plaintext, EncryptionContext: { berth: context } }));
    if (!out.CiphertextBlob) throw new Error('external KMS returned no ciphertext');
    return out.CiphertextBlob;
  }

  async open(sealed: Uint8Array, context: string): Promise<Uint8Array> {
    const out = await this.#client.send(new DecryptCommand({ KeyId: this.opts.keyId, CiphertextBlob: sealed, EncryptionContext: { berth: context } }));
    if (!out.Plaintext) throw new Error('external KMS returned no plaintext');
    return out.Plaintext;
  }
}
