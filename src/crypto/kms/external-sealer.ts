import type { KMSClient } from '@aws-sdk/client-kms';
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
  #sdk: Promise<{ client: KMSClient; sdk: typeof import('@aws-sdk/client-kms') }> | undefined;

  constructor(private readonly opts: ExternalKmsOptions) {
    this.name = opts.keyId;
  }

  /** The SDK is loaded on first use: it costs seconds of start-up on a busy host, and most deployments never configure an external KMS. */
  #load(): Promise<{ client: KMSClient; sdk: typeof import('@aws-sdk/client-kms') }> {
    this.#sdk ??= import('@aws-sdk/client-kms').then((sdk) => ({
      sdk, client: new sdk.KMSClient({ region: this.opts.region, ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}) }),
    }));
    return this.#sdk;
  }

  async seal(plaintext: Uint8Array, context: string): Promise<Uint8Array> {
    const { client, sdk } = await this.#load();
    const out = await client.send(new sdk.EncryptCommand({ KeyId: this.opts.keyId, Plaintext: plaintext, EncryptionContext: { berth: context } }));
    if (!out.CiphertextBlob) throw new Error('external KMS returned no ciphertext');
    return out.CiphertextBlob;
  }

  async open(sealed: Uint8Array, context: string): Promise<Uint8Array> {
    const { client, sdk } = await this.#load();
    const out = await client.send(new sdk.DecryptCommand({ KeyId: this.opts.keyId, CiphertextBlob: sealed, EncryptionContext: { berth: context } }));
    if (!out.Plaintext) throw new Error('external KMS returned no plaintext');
    return out.Plaintext;
  }
}
