import { kmsFail } from '../../core/services/kms/errors.js';
import type { AwsOperations } from '../aws/context.js';
import { authorizedKey, b64, ctxOf, onKey, str, type KmsDeps } from './common.js';

const symmetricOnly = (alg: unknown): void => {
  if (alg !== undefined && alg !== 'SYMMETRIC_DEFAULT') throw kmsFail('UnsupportedOperationException', `berth encrypts with SYMMETRIC_DEFAULT only, not ${str(alg)}`);
};
const noDryRun = (input: Record<string, unknown>): void => {
  if (input.DryRun === true) throw kmsFail('UnsupportedOperationException', 'berth does not support DryRun');
  if (input.Recipient !== undefined) throw kmsFail('UnsupportedOperationException', 'berth has no Nitro enclave attestation (Recipient)');
};

/** Encrypt, Decrypt, ReEncrypt, data keys, random bytes, Sign, Verify, GetPublicKey. */
export function cryptoOperations(deps: KmsDeps): AwsOperations {
  const { crypto } = deps;
  return {
    Encrypt: onKey(deps, 'kms:Encrypt', async (key, input, ctx) => {
      noDryRun(input);
      symmetricOnly(input.EncryptionAlgorithm);
      const blob = await crypto.encrypt(key, b64(input.Plaintext), ctxOf(input.EncryptionContext), ctx.signal);
      return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    }),
    Decrypt: {
      access: null,
      async handle(input, ctx) {
        noDryRun(input);
        symmetricOnly(input.EncryptionAlgorithm);
        const blob = b64(input.CiphertextBlob);
        const named = crypto.keyIdOf(blob);
        const key = await authorizedKey(deps, typeof input.KeyId === 'string' ? input.KeyId : named, 'kms:Decrypt', ctx);
        const plain = await crypto.decrypt(key, blob, ctxOf(input.EncryptionContext), ctx.signal);
        return { KeyId: key.arn, Plaintext: plain.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      },
    },
    ReEncrypt: {
      access: null,
      async handle(input, ctx) {
        noDryRun(input);
        symmetricOnly(input.SourceEncryptionAlgorithm);
        symmetricOnly(input.DestinationEncryptionAlgorithm);
        const blob = b64(input.CiphertextBlob);
        const source = await authorizedKey(deps, typeof input.SourceKeyId === 'string' ? input.SourceKeyId : crypto.keyIdOf(blob), 'kms:ReEncryptFrom', ctx);
        const dest = await authorizedKey(deps, str(input.DestinationKeyId), 'kms:ReEncryptTo', ctx);
        const plain = await crypto.decrypt(source, blob, ctxOf(input.SourceEncryptionContext), ctx.signal);
        const out = await crypto.encrypt(dest, plain, ctxOf(input.DestinationEncryptionContext), ctx.signal);
        return {
          CiphertextBlob: out.toString('base64'), SourceKeyId: source.arn, KeyId: dest.arn,
          SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
      },
    },
    GenerateDataKey: onKey(deps, 'kms:GenerateDataKey', async (key, input, ctx) => {
      noDryRun(input);
      const plain = crypto.generateRandom(crypto.dataKeyLength(input.KeySpec, input.NumberOfBytes));
      const blob = await crypto.encrypt(key, plain, ctxOf(input.EncryptionContext), ctx.signal);
      return { CiphertextBlob: blob.toString('base64'), Plaintext: plain.toString('base64'), KeyId: key.arn };
    }),
    GenerateDataKeyWithoutPlaintext: onKey(deps, 'kms:GenerateDataKeyWithoutPlaintext', async (key, input, ctx) => {
      noDryRun(input);
      const plain = crypto.generateRandom(crypto.dataKeyLength(input.KeySpec, input.NumberOfBytes));
      const blob = await crypto.encrypt(key, plain, ctxOf(input.EncryptionContext), ctx.signal);
      return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn };
    }),
    GenerateRandom: {
      access: () => ({ action: 'kms:GenerateRandom', resource: '*' }),
      async handle(input) {
        noDryRun(input);
        if (input.CustomKeyStoreId !== undefined) throw kmsFail('UnsupportedOperationException', 'berth has no custom key stores');
        const n = typeof input.NumberOfBytes === 'number' ? input.NumberOfBytes : 32;
        return { Plaintext: crypto.generateRandom(n).toString('base64') };
      },
    },
    Sign: onKey(deps, 'kms:Sign', async (key, input, ctx) => {
      noDryRun(input);
      const alg = str(input.SigningAlgorithm);
      const sig = await crypto.sign(key, b64(input.Message), str(input.MessageType) || 'RAW', alg, ctx.signal);
      return { KeyId: key.arn, Signature: sig.toString('base64'), SigningAlgorithm: alg };
    }),
    Verify: onKey(deps, 'kms:Verify', async (key, input, ctx) => {
      noDryRun(input);
      const alg = str(input.SigningAlgorithm);
      const ok = await crypto.verify(key, b64(input.Message), str(input.MessageType) || 'RAW', alg, b64(input.Signature), ctx.signal);
      // As KMS: an invalid signature is an exception, not SignatureValid=false.
      if (!ok) throw kmsFail('KMSInvalidSignatureException', 'The signature verification failed.');
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: alg };
    }),
    GetPublicKey: onKey(deps, 'kms:GetPublicKey', async (key, _input, ctx) => {
      const pub = await crypto.publicKey(key, ctx.signal);
      const meta = deps.keys.metadata(key);
      return {
        KeyId: key.arn, PublicKey: pub.toString('base64'), CustomerMasterKeySpec: key.keySpec, KeySpec: key.keySpec,
        KeyUsage: key.keyUsage, SigningAlgorithms: meta.SigningAlgorithms,
      };
    }),
  };
}
