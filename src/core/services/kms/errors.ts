import { fail, type BerthError, type ErrorCode } from '../../errors.js';

/** KMS exception names (from the model) berth raises. */
export type KmsExceptionName =
  | 'NotFoundException' | 'DisabledException' | 'KMSInvalidStateException' | 'InvalidCiphertextException'
  | 'IncorrectKeyException' | 'AlreadyExistsException' | 'InvalidAliasNameException' | 'ValidationException'
  | 'InvalidKeyUsageException' | 'KMSInvalidSignatureException' | 'TagException' | 'MalformedPolicyDocumentException'
  | 'UnsupportedOperationException' | 'InvalidArnException' | 'InvalidMarkerException' | 'LimitExceededException'
  | 'AccessDeniedException';

const CODES: Record<KmsExceptionName, ErrorCode> = {
  NotFoundException: 'NoSuchEntity',
  DisabledException: 'KmsError',
  KMSInvalidStateException: 'KmsError',
  InvalidCiphertextException: 'InvalidParameter',
  IncorrectKeyException: 'InvalidParameter',
  AlreadyExistsException: 'EntityAlreadyExists',
  InvalidAliasNameException: 'InvalidParameter',
  ValidationException: 'ValidationError',
  InvalidKeyUsageException: 'InvalidParameter',
  KMSInvalidSignatureException: 'InvalidParameter',
  TagException: 'InvalidTagParameter',
  MalformedPolicyDocumentException: 'MalformedPolicyDocument',
  UnsupportedOperationException: 'Unsupported',
  InvalidArnException: 'InvalidParameter',
  InvalidMarkerException: 'InvalidParameter',
  LimitExceededException: 'LimitExceeded',
  AccessDeniedException: 'AccessDenied',
};

/** A domain error that the KMS surface renders as `name` (other surfaces use its code). */
export function kmsFail(name: KmsExceptionName, message: string, detail?: Record<string, unknown>): BerthError {
  return Object.assign(fail(CODES[name], message, detail), { awsType: name });
}
