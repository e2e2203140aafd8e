/**
 * The one domain error of berth. Every surface (OCI, ECR, …) owns an exhaustive map from
 * {@link ErrorCode} to its wire shape, typed as `Record<ErrorCode, …>`, so a new code that is
 * not mapped everywhere does not compile.
 */
export type ErrorCode =
  | 'InvalidName'
  | 'InvalidTag'
  | 'InvalidDigest'
  | 'DigestMismatch'
  | 'InvalidParameter'
  | 'RepositoryNotFound'
  | 'BlobNotFound'
  | 'BlobReferenced'
  | 'UploadNotFound'
  | 'UploadInvalid'
  | 'RangeNotSatisfiable'
  | 'ManifestNotFound'
  | 'ManifestInvalid'
  | 'ManifestBlobUnknown'
  | 'ManifestReferenced'
  | 'ManifestNotAcceptable'
  | 'SizeInvalid'
  | 'PayloadTooLarge'
  | 'Unsupported'
  | 'Unauthenticated'
  | 'AccessDenied'
  | 'TooManyRequests'
  | 'Unavailable'
  | 'RepositoryAlreadyExists'
  | 'RepositoryNotEmpty'
  | 'RepositoryPolicyNotFound'
  | 'RegistryPolicyNotFound'
  | 'ImageNotFound'
  | 'ImageTagAlreadyExists'
  | 'ImageAlreadyExists'
  | 'ImageDigestMismatch'
  | 'LayersNotFound'
  | 'ReferencedImagesNotFound'
  | 'LayerAlreadyExists'
  | 'LayerPartTooSmall'
  | 'InvalidLayerPart'
  | 'EmptyUpload'
  | 'InvalidLayer'
  | 'TooManyTags'
  | 'InvalidTagParameter'
  | 'ValidationError'
  | 'MalformedPolicyDocument'
  | 'EntityAlreadyExists'
  | 'NoSuchEntity'
  | 'DeleteConflict'
  | 'LimitExceeded'
  | 'ScanNotFound'
  | 'UnsupportedImageType'
  | 'NotImplemented'
  /** A repository's KMS key cannot be used (disabled, pending deletion, missing, or not permitted). */
  | 'KmsError'
  | 'LifecyclePolicyNotFound'
  | 'LifecyclePolicyPreviewInProgress'
  | 'LifecyclePolicyPreviewNotFound'
  | 'ImageArchived'
  | 'ImageStorageClassUpdateNotSupported'
  | 'ExclusionAlreadyExists'
  | 'ExclusionNotFound'
  | 'Internal';

export class BerthError extends Error {
  override readonly name = 'BerthError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable context rendered by surfaces that carry a detail field (never secrets). */
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isBerthError(e: unknown): e is BerthError {
  return e instanceof BerthError;
}

/** Shorthand used by services: `throw fail('BlobNotFound', 'blob unknown to registry', { digest })`. */
export function fail(code: ErrorCode, message: string, detail?: Record<string, unknown>): BerthError {
  return new BerthError(code, message, detail);
}
