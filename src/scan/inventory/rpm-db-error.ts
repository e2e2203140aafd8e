/**
 * A package database that cannot be read (truncated, corrupt or hostile). The inventory turns it into
 * a per-image note naming the file, and the scan goes on with the other files.
 */
export class RpmDbError extends Error {
  override name = 'RpmDbError';
}
