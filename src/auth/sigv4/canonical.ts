/**
 * The SigV4 canonical request, rebuilt from the request exactly as it came off the wire.
 *
 * Hand-rolled rather than delegated to `@smithy/signature-v4` at run time: that signer canonicalizes an
 * SDK-side `HttpRequest` it is about to send (decoded query object, header set it chooses to sign, and it
 * regenerates `x-amz-date`/`x-amz-content-sha256` itself), so it cannot replay a received request whose
 * SignedHeaders list, date header and query encoding were chosen by someone else. The rules below are
 * the ones both the AWS SDK for JavaScript v3 (`@smithy/signature-v4`) and botocore (the `aws` CLI)
 * implement for non-S3 services, and the unit tests check them against that signer and against AWS's
 * published test-suite signatures.
 */
import { SigV4Error } from './errors.js';

/** RFC 3986 percent-encoding of everything but the unreserved set `A-Z a-z 0-9 - _ . ~`. */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Canonical URI for non-S3 services: remove `.`/`..` and empty segments, then URI-encode the wire path
 * once more (so `%20` on the wire signs as `%2520`), keeping `/` as the separator.
 */
export function canonicalUri(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const lead = rawPath.startsWith('/') || segments.length === 0 ? '/' : '';
  const trail = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return escapeUri(`${lead}${segments.join('/')}${trail}`).replace(/%2F/g, '/');
}

/** One decoded `name=value` pair of a query string, in wire order. */
export type QueryPair = readonly [name: string, value: string];

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new SigV4Error('IncompleteSignature', 'The query string is malformed: it contains an invalid percent-encoding.');
  }
}

/**
 * Splits a raw query string into decoded pairs. `+` stays a literal plus: AWS SDKs encode spaces as
 * `%20`, and reading `+` as a space would change what was signed. A name without `=` has value `''`.
 */
export function parseQuery(rawQuery: string): QueryPair[] {
  const pairs: QueryPair[] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([decodeComponent(name), decodeComponent(value)]);
  }
  return pairs;
}

/**
 * Canonical query string: every pair re-encoded with {@link escapeUri}, sorted by encoded name and then
 * by encoded value, joined with `&`. Pairs whose name equals `exclude` (case-insensitive) are left out —
 * a presigned URL's own `X-Amz-Signature`.
 */
export function canonicalQuery(pairs: readonly QueryPair[], exclude?: string): string {
  const skip = exclude?.toLowerCase();
  const encoded: [string, string][] = [];
  for (const [name, value] of pairs) {
    if (skip !== undefined && name.toLowerCase() === skip) continue;
    encoded.push([escapeUri(name), escapeUri(value)]);
  }
  encoded.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return encoded.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Header value as SigV4 signs it: each value trimmed, inner runs of spaces/tabs collapsed, joined by `,`. */
export function canonicalHeaderValue(value: string | readonly string[]): string {
  const one = (v: string): string => v.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
  return typeof value === 'string' ? one(value) : value.map(one).join(',');
}

/** Everything the canonical request is built from, already checked by the caller. */
export interface CanonicalRequestParts {
  readonly method: string;
  readonly rawPath: string;
  readonly query: readonly QueryPair[];
  /** Query parameter left out of the canonical query (presigned `X-Amz-Signature`). */
  readonly excludeQuery?: string;
  /** Lower-case signed header names, in the order the client listed them. */
  readonly signedHeaders: readonly string[];
  /** Lower-case header name → value(s) as received. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly payloadHash: string;
}

/**
 * The canonical request text. Throws `SignatureMismatch` when a header the client says it signed is not
 * in the request: no signature over it can match.
 */
export function canonicalRequest(p: CanonicalRequestParts): string {
  const lines: string[] = [];
  for (const name of p.signedHeaders) {
    const value = p.headers[name];
    if (value === undefined) throw new SigV4Error('SignatureMismatch', `The signed header '${name}' is missing from the request.`);
    lines.push(`${name}:${canonicalHeaderValue(value)}`);
  }
  return [
    p.method,
    canonicalUri(p.rawPath),
    canonicalQuery(p.query, p.excludeQuery),
    ...lines,
    '',
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
}
