import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, isBerthError } from '../../core/errors.js';
import { isClientAbort } from '../access-log.js';

/** OCI error codes (distribution-spec "Error Codes" table), plus UNAVAILABLE/UNKNOWN as Distribution uses them. */
type OciCode =
  | 'BLOB_UNKNOWN' | 'BLOB_UPLOAD_INVALID' | 'BLOB_UPLOAD_UNKNOWN' | 'DIGEST_INVALID' | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID' | 'MANIFEST_UNKNOWN' | 'NAME_INVALID' | 'NAME_UNKNOWN' | 'SIZE_INVALID' | 'UNAUTHORIZED'
  | 'DENIED' | 'UNSUPPORTED' | 'TOOMANYREQUESTS' | 'UNAVAILABLE' | 'UNKNOWN'
  // Not in the OCI table, but what Distribution and ECR answer for a refused tag; docker prints "tag invalid: <message>".
  | 'TAG_INVALID';

/** The one exhaustive map from domain code to OCI wire shape: a new domain code must be added here to compile. */
export const OCI_ERRORS: Record<ErrorCode, { status: number; code: OciCode }> = {
  InvalidName: { status: 400, code: 'NAME_INVALID' },
  InvalidTag: { status: 400, code: 'TAG_INVALID' },
  InvalidDigest: { status: 400, code: 'DIGEST_INVALID' },
  DigestMismatch: { status: 400, code: 'DIGEST_INVALID' },
  InvalidParameter: { status: 400, code: 'UNSUPPORTED' },
  RepositoryNotFound: { status: 404, code: 'NAME_UNKNOWN' },
  BlobNotFound: { status: 404, code: 'BLOB_UNKNOWN' },
  BlobReferenced: { status: 409, code: 'DENIED' },
  UploadNotFound: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' },
  UploadInvalid: { status: 400, code: 'BLOB_UPLOAD_INVALID' },
  RangeNotSatisfiable: { status: 416, code: 'BLOB_UPLOAD_INVALID' },
  ManifestNotFound: { status: 404, code: 'MANIFEST_UNKNOWN' },
  ManifestInvalid: { status: 400, code: 'MANIFEST_INVALID' },
  ManifestBlobUnknown: { status: 400, code: 'MANIFEST_BLOB_UNKNOWN' },
  ManifestReferenced: { status: 409, code: 'DENIED' },
  ManifestNotAcceptable: { status: 404, code: 'MANIFEST_UNKNOWN' },
  SizeInvalid: { status: 400, code: 'SIZE_INVALID' },
  PayloadTooLarge: { status: 413, code: 'SIZE_INVALID' },
  Unsupported: { status: 405, code: 'UNSUPPORTED' },
  Unauthenticated: { status: 401, code: 'UNAUTHORIZED' },
  AccessDenied: { status: 403, code: 'DENIED' },
  TooManyRequests: { status: 429, code: 'TOOMANYREQUESTS' },
  Unavailable: { status: 503, code: 'UNAVAILABLE' },
  RepositoryAlreadyExists: { status: 409, code: 'DENIED' },
  RepositoryNotEmpty: { status: 409, code: 'DENIED' },
  RepositoryPolicyNotFound: { status: 404, code: 'NAME_UNKNOWN' },
  RegistryPolicyNotFound: { status: 404, code: 'NAME_UNKNOWN' },
  ImageNotFound: { status: 404, code: 'MANIFEST_UNKNOWN' },
  ImageTagAlreadyExists: { status: 400, code: 'TAG_INVALID' },
  ImageAlreadyExists: { status: 400, code: 'MANIFEST_INVALID' },
  ImageDigestMismatch: { status: 400, code: 'DIGEST_INVALID' },
  LayersNotFound: { status: 404, code: 'BLOB_UNKNOWN' },
  ReferencedImagesNotFound: { status: 400, code: 'MANIFEST_BLOB_UNKNOWN' },
  LayerAlreadyExists: { status: 409, code: 'DENIED' },
  LayerPartTooSmall: { status: 400, code: 'SIZE_INVALID' },
  InvalidLayerPart: { status: 416, code: 'BLOB_UPLOAD_INVALID' },
  EmptyUpload: { status: 400, code: 'BLOB_UPLOAD_INVALID' },
  InvalidLayer: { status: 400, code: 'BLOB_UPLOAD_INVALID' },
  TooManyTags: { status: 400, code: 'UNSUPPORTED' },
  InvalidTagParameter: { status: 400, code: 'UNSUPPORTED' },
  ValidationError: { status: 400, code: 'UNSUPPORTED' },
  MalformedPolicyDocument: { status: 400, code: 'UNSUPPORTED' },
  EntityAlreadyExists: { status: 409, code: 'DENIED' },
  NoSuchEntity: { status: 404, code: 'NAME_UNKNOWN' },
  DeleteConflict: { status: 409, code: 'DENIED' },
  LimitExceeded: { status: 400, code: 'DENIED' },
  ScanNotFound: { status: 404, code: 'NAME_UNKNOWN' },
  UnsupportedImageType: { status: 400, code: 'UNSUPPORTED' },
  NotImplemented: { status: 405, code: 'UNSUPPORTED' },
  // The repository's key is disabled or pending deletion: refused, with the key named in the message.
  KmsError: { status: 403, code: 'DENIED' },
  LifecyclePolicyNotFound: { status: 404, code: 'NAME_UNKNOWN' },
  LifecyclePolicyPreviewInProgress: { status: 409, code: 'DENIED' },
  LifecyclePolicyPreviewNotFound: { status: 404, code: 'NAME_UNKNOWN' },
  // An archived image is listed but not pullable until restored (ECR: ImageArchivedException).
  ImageArchived: { status: 403, code: 'DENIED' },
  ImageStorageClassUpdateNotSupported: { status: 400, code: 'UNSUPPORTED' },
  ExclusionAlreadyExists: { status: 409, code: 'DENIED' },
  ExclusionNotFound: { status: 404, code: 'NAME_UNKNOWN' },
  Internal: { status: 500, code: 'UNKNOWN' },
};

/** Realm advertised with 401s when there is no token server (tests of the bare OCI surface). */
export const WWW_AUTHENTICATE = 'Basic realm="berth"';

/** Renders any error as `{"errors":[{code,message,detail}]}`; never a stack trace. */
export function ociErrorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply, challenge?: (req: FastifyRequest) => string): void {
  if (!isBerthError(err) && isClientAbort(err, req)) {
    req.log.info({ reason: err.message }, 'client went away mid-request');
    reply.raw.destroy();
    return;
  }
  let status: number;
  let code: OciCode;
  let message: string;
  let detail: unknown;
  if (isBerthError(err)) {
    ({ status, code } = OCI_ERRORS[err.code]);
    message = err.message;
    detail = err.detail;
  } else if (isClientError(err)) {
    status = err.statusCode ?? 400;
    code = status === 413 ? 'SIZE_INVALID' : status === 415 ? 'MANIFEST_INVALID' : 'UNSUPPORTED';
    message = err.message;
  } else {
    status = 500;
    code = 'UNKNOWN';
    message = `internal error; request id ${req.id}`;
    req.log.error({ err }, 'unhandled error');
  }
  if (status >= 400 && status < 500) req.log.info({ code, status, reason: message }, 'client error');
  if (status === 401) reply.header('www-authenticate', challenge ? challenge(req) : WWW_AUTHENTICATE);
  const retryAfter = isBerthError(err) ? err.detail?.retryAfterSeconds : undefined;
  if (status === 429 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  void reply.code(status).header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ errors: [{ code, message, detail: detail ?? null }] }));
}

function isClientError(err: Error): err is FastifyError {
  const s = (err as FastifyError).statusCode;
  return typeof s === 'number' && s >= 400 && s < 500;
}
