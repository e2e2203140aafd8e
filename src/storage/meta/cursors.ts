import { isDigest } from '../../core/digest.js';
import { fail } from '../../core/errors.js';
import type { ImageId } from '../../core/ports/meta-store.js';

/*
 * Image pagination cursors, shared by every MetaStore implementation so a cursor means the same
 * thing on any backend. Opaque to callers: base64url of the last entry's key. A tag is never
 * empty, so '' stands for the tagless entry, and '\0' (never in a digest) separates the two.
 */

export function encodeIdCursor(id: ImageId): string {
  return Buffer.from(`${id.digest}\0${id.tag ?? ''}`, 'utf8').toString('base64url');
}

/** `[digest, tag]` of the entry a cursor names; throws `InvalidParameter` for anything else. */
export function decodeIdCursor(cursor: string): [string, string] {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const sep = text.indexOf('\0');
  if (sep < 0 || !isDigest(text.slice(0, sep))) throw badCursor();
  return [text.slice(0, sep), text.slice(sep + 1)];
}

export function encodeDigestCursor(digest: string): string {
  return Buffer.from(digest, 'utf8').toString('base64url');
}

export function decodeDigestCursor(cursor: string): string {
  const digest = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isDigest(digest)) throw badCursor();
  return digest;
}

/** Cursor of DescribeImages' push order: the last image's push time (epoch ms) and digest. */
export function encodePushCursor(pushedAtMs: number, digest: string): string {
  return Buffer.from(`${pushedAtMs}\0${digest}`, 'utf8').toString('base64url');
}

/** `[pushedAtMs, digest]` of the image a push-order cursor names; throws `InvalidParameter` for anything else. */
export function decodePushCursor(cursor: string): [number, string] {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const sep = text.indexOf('\0');
  const ms = Number(text.slice(0, sep));
  if (sep < 1 || !/^\d+$/.test(text.slice(0, sep)) || !Number.isSafeInteger(ms) || !isDigest(text.slice(sep + 1))) throw badCursor();
  return [ms, text.slice(sep + 1)];
}

/** A page size every backend honours (SQLite reads a negative LIMIT as "no limit"). */
export function limitOf(limit: number): number {
  return Math.max(0, Math.floor(limit));
}

function badCursor() {
  return fail('InvalidParameter', 'invalid pagination token');
}
