import type { FastifyRequest } from 'fastify';
import { fail } from '../../core/errors.js';
import type { BlobRange } from '../../core/services/blobs.js';

/** `Content-Length` as a number, `undefined` when absent. Throws `SizeInvalid` when malformed. */
export function contentLength(req: FastifyRequest): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  if (!/^\d{1,16}$/.test(v)) throw fail('SizeInvalid', 'malformed Content-Length');
  return Number(v);
}

/** Whether the request carries a body (a length above zero, or chunked transfer encoding). */
export function hasBody(req: FastifyRequest): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** Upload `Content-Range: <start>-<end>` (OCI form, optionally prefixed "bytes "). */
export function uploadContentRange(req: FastifyRequest): { start: number; end: number } | undefined {
  const v = req.headers['content-range'];
  if (v === undefined) return undefined;
  const m = /^(?:bytes )?(\d{1,16})-(\d{1,16})(?:\/(?:\d+|\*))?$/.exec(v.trim());
  if (!m) throw fail('RangeNotSatisfiable', 'malformed Content-Range; expected <start>-<end>');
  return { start: Number(m[1]), end: Number(m[2]) };
}

/**
 * Picks the byte range of a `Range: bytes=…` header for a blob of `size` bytes (a single range;
 * multiple ranges are answered with the whole blob, as RFC 9110 allows). Throws
 * `RangeNotSatisfiable` with the size in its detail.
 */
export function pickRange(header: string | undefined): ((size: number) => BlobRange | undefined) | undefined {
  if (!header) return undefined;
  return (size) => {
    const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    if (!m || (m[1] === '' && m[2] === '')) {
      if (header.includes(',')) return undefined;
      throw fail('RangeNotSatisfiable', 'malformed Range header', { size });
    }
    let start: number;
    let end: number;
    if (m[1] === '') {
      const suffix = Number(m[2]);
      if (suffix === 0) throw fail('RangeNotSatisfiable', 'empty suffix range', { size });
      start = Math.max(0, size - suffix);
      end = size - 1;
    } else {
      start = Number(m[1]);
      end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    }
    if (start >= size || start > end) throw fail('RangeNotSatisfiable', 'range not satisfiable', { size });
    return { start, end };
  };
}

/** The `n` query parameter, clamped to the server's page limit; `last` as given. Throws `InvalidParameter`. */
export function pageQuery(query: Record<string, string | undefined>, max: number): { limit: number; last?: string } {
  let limit = max;
  if (query.n !== undefined && query.n !== '') {
    if (!/^\d{1,9}$/.test(query.n)) throw fail('InvalidParameter', 'query parameter n must be a non-negative integer', { n: query.n.slice(0, 20) });
    limit = Math.min(Number(query.n), max);
  }
  return { limit, ...(query.last ? { last: query.last } : {}) };
}

/** `Range` header value for an upload of `size` bytes, as Distribution writes it ("0-0" when empty). */
export function uploadRange(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}
