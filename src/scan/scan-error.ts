/**
 * A failure that belongs to one image (corrupt or hostile layer, unreadable database): the scan
 * ends `FAILED` with this message as its description. Anything else is a bug or an outage and is
 * retried.
 */
export class ScanError extends Error {
  override readonly name = 'ScanError';
}

/** Whether `err` is (or wraps) a {@link ScanError}. */
export function isScanError(err: unknown): err is ScanError {
  return err instanceof ScanError;
}
