import { fail } from '../../core/errors.js';

/**
 * Upload ids become file and object names, so they are restricted to a charset that cannot
 * express a path separator, `..`, or anything a shell or object store would reinterpret.
 */
const UPLOAD_ID_RE = /^[A-Za-z0-9-]{1,64}$/;

/** Throws `UploadInvalid` unless `uploadId` is 1–64 characters of `[A-Za-z0-9-]`. */
export function assertUploadId(uploadId: string): void {
  if (typeof uploadId !== 'string' || !UPLOAD_ID_RE.test(uploadId)) {
    throw fail('UploadInvalid', 'invalid upload id', { uploadId: String(uploadId).slice(0, 80) });
  }
}

/** True when `name` is shaped like an upload id (used to skip stray files when listing). */
export function isUploadId(name: string): boolean {
  return UPLOAD_ID_RE.test(name);
}

/** Throws `UploadInvalid` unless `offset` is a non-negative safe integer. */
export function assertOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw fail('UploadInvalid', 'upload offset must be a non-negative integer', { offset });
  }
}
