/**
 * AWS Signature Version 4 verification: the server side of what the `aws` CLI and the AWS SDKs send.
 * Framework-free; the HTTP surfaces adapt their requests to {@link IncomingSignedRequest} and render
 * {@link SigV4Error} through {@link sigV4ErrorNames}.
 */
export { verifySigV4, detectSigV4 } from './verify.js';
export type { IncomingSignedRequest, SigningKeyLookup, SigningKeyRecord, VerifySigV4Options, VerifiedSigV4 } from './verify.js';
export { SigV4Error, sigV4ErrorNames } from './errors.js';
export type { SigV4Reason, SigV4ErrorName } from './errors.js';
export { SigningKeyCache } from './signing-key.js';
