/**
 * Why a SigV4 verification failed, and how AWS itself names each failure on the wire.
 *
 * The names, statuses and messages follow what AWS services answer (AWS "Common Errors" pages of the
 * IAM/STS/EC2 API references, and the error bodies quoted verbatim in the aws-cli, aws-sdk-js,
 * aws-sdk-php and aws-sdk-java-v2 issue trackers):
 *   - AWS JSON services (ECR, KMS): `MissingAuthenticationTokenException`, `IncompleteSignatureException`,
 *     `UnrecognizedClientException` ("The security token included in the request is invalid."),
 *     `InvalidSignatureException` (bad signature, wrong scope, and "Signature expired: …"),
 *     `ExpiredTokenException` — all HTTP 400, the status every AWS JSON client error uses.
 *   - Query services (IAM, STS): `MissingAuthenticationToken` 403, `IncompleteSignature` 400,
 *     `InvalidClientTokenId` 403, `SignatureDoesNotMatch` 403 (also for "Signature expired: …" and a
 *     wrongly scoped credential), `ExpiredToken` 403.
 */

/** Every way a SigV4 verification can fail. */
export type SigV4Reason =
  | 'MissingAuthentication'
  | 'IncompleteSignature'
  | 'UnknownAccessKey'
  | 'SignatureMismatch'
  | 'RequestExpired'
  | 'InvalidSecurityToken'
  | 'ExpiredToken'
  | 'WrongService'
  | 'WrongRegion'
  | 'MissingDate';

/**
 * A failed SigV4 verification. `message` is already AWS-worded and safe to send to the client: it never
 * contains a secret, a session token or an expected signature.
 */
export class SigV4Error extends Error {
  override readonly name = 'SigV4Error';
  constructor(
    readonly reason: SigV4Reason,
    message: string = sigV4ErrorNames[reason].message,
  ) {
    super(message);
  }
}

/** How one {@link SigV4Reason} renders in each AWS protocol. */
export interface SigV4ErrorName {
  /** `__type` / `x-amzn-ErrorType` for AWS JSON 1.1 services (ECR, ECR Public, KMS). */
  readonly json: string;
  /** HTTP status AWS JSON services answer with. */
  readonly jsonStatus: number;
  /** `<Error><Code>` for Query-protocol services (IAM, STS). */
  readonly query: string;
  /** HTTP status Query services answer with. */
  readonly queryStatus: number;
  /** AWS's default wording; a {@link SigV4Error} may carry a more specific one. */
  readonly message: string;
}

const INVALID_TOKEN = 'The security token included in the request is invalid.';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** AWS's error name, status and default message for each reason, per protocol. */
export const sigV4ErrorNames: Readonly<Record<SigV4Reason, SigV4ErrorName>> = Object.freeze({
  MissingAuthentication: {
    json: 'MissingAuthenticationTokenException', jsonStatus: 400,
    query: 'MissingAuthenticationToken', queryStatus: 403,
    message: 'Request is missing Authentication Token',
  },
  IncompleteSignature: {
    json: 'IncompleteSignatureException', jsonStatus: 400,
    query: 'IncompleteSignature', queryStatus: 400,
    message: 'The request signature does not conform to AWS standards.',
  },
  UnknownAccessKey: {
    json: 'UnrecognizedClientException', jsonStatus: 400,
    query: 'InvalidClientTokenId', queryStatus: 403,
    message: INVALID_TOKEN,
  },
  SignatureMismatch: {
    json: 'InvalidSignatureException', jsonStatus: 400,
    query: 'SignatureDoesNotMatch', queryStatus: 403,
    message: MISMATCH,
  },
  RequestExpired: {
    json: 'InvalidSignatureException', jsonStatus: 400,
    query: 'SignatureDoesNotMatch', queryStatus: 403,
    message: 'Signature expired.',
  },
  InvalidSecurityToken: {
    json: 'UnrecognizedClientException', jsonStatus: 400,
    query: 'InvalidClientTokenId', queryStatus: 403,
    message: INVALID_TOKEN,
  },
  ExpiredToken: {
    json: 'ExpiredTokenException', jsonStatus: 400,
    query: 'ExpiredToken', queryStatus: 403,
    message: 'The security token included in the request is expired',
  },
  WrongService: {
    json: 'InvalidSignatureException', jsonStatus: 400,
    query: 'SignatureDoesNotMatch', queryStatus: 403,
    message: 'Credential should be scoped to correct service.',
  },
  WrongRegion: {
    json: 'InvalidSignatureException', jsonStatus: 400,
    query: 'SignatureDoesNotMatch', queryStatus: 403,
    message: 'Credential should be scoped to a valid region.',
  },
  MissingDate: {
    json: 'IncompleteSignatureException', jsonStatus: 400,
    query: 'IncompleteSignature', queryStatus: 400,
    message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
  },
});
