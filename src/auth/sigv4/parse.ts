/**
 * Reading the SigV4 authentication parameters out of a request, in either form: the `Authorization`
 * header, or a presigned URL's `X-Amz-*` query parameters. Only syntax is checked here; scope, time
 * and signature are judged by `verify.ts`.
 */
import { SigV4Error } from './errors.js';
import type { QueryPair } from './canonical.js';

/** The only algorithm accepted (SigV4a's `AWS4-ECDSA-P256-SHA256` is not). */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** `AKID/YYYYMMDD/region/service/aws4_request`, split. */
export interface CredentialScope {
  readonly accessKeyId: string;
  /** `YYYYMMDD` */
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/** The authentication parameters of one request. */
export interface SigV4Params {
  readonly presigned: boolean;
  readonly scope: CredentialScope;
  /** Lower-case header names, in the order given. */
  readonly signedHeaders: readonly string[];
  /** Hex signature as sent. */
  readonly signature: string;
  /** When the client signed, and its `YYYYMMDDTHHMMSSZ` form that goes into the string to sign. */
  readonly signedAt: Date;
  readonly longDate: string;
  /** Presigned validity in seconds (presigned form only). */
  readonly expiresSeconds?: number;
  /** `X-Amz-Security-Token` as sent (header or query), if any. */
  readonly securityToken?: string;
}

/** Header value as a single string; a repeated auth header is malformed. */
export function singleHeader(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw new SigV4Error('IncompleteSignature', `The '${name}' header must appear only once.`);
    return value[0];
  }
  return value;
}

const incomplete = (message: string): SigV4Error => new SigV4Error('IncompleteSignature', message);

/** Splits and checks the `Credential` value. */
export function parseCredential(value: string): CredentialScope {
  const parts = value.split('/');
  if (parts.length !== 5) {
    throw incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${value}'.`);
  }
  const [accessKeyId = '', date = '', region = '', service = '', terminator = ''] = parts;
  if (terminator !== 'aws4_request') {
    throw incomplete(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`);
  }
  if (accessKeyId === '' || region === '' || service === '') throw incomplete(`Credential '${value}' has an empty element.`);
  if (!/^\d{8}$/.test(date)) throw incomplete(`Credential date '${date}' must be in YYYYMMDD format.`);
  return { accessKeyId, date, region, service };
}

/** Splits and checks a `SignedHeaders` value (`host;x-amz-date`). */
export function parseSignedHeaders(value: string): string[] {
  const names = value.split(';');
  if (names.some((n) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(n))) {
    throw incomplete(`SignedHeaders '${value}' must be lower-case header names separated by ';'.`);
  }
  if (!names.includes('host')) throw incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  return names;
}

/** Formats a date as SigV4's `YYYYMMDDTHHMMSSZ`. */
export function toAmzDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Parses `YYYYMMDDTHHMMSSZ`; anything else is `IncompleteSignature`. */
export function parseAmzDate(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  const d = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
  if (!d || toAmzDate(d) !== value) {
    throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${value}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  return d;
}

/** Reads the `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` form. */
export function parseAuthorizationHeader(
  authorization: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): SigV4Params {
  const trimmed = authorization.trim();
  const space = trimmed.search(/\s/);
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'.`);
  const fields = new Map<string, string>();
  for (const raw of (space < 0 ? '' : trimmed.slice(space + 1)).split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw incomplete(`'${part}' not a valid key=value pair (missing equal-sign) in Authorization header.`);
    const key = part.slice(0, eq).trim();
    if (fields.has(key)) throw incomplete(`Authorization header has '${key}' more than once.`);
    fields.set(key, part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((k) => !fields.get(k));
  if (missing.length > 0) throw incomplete(missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' '));
  const scope = parseCredential(fields.get('Credential')!);
  const signedHeaders = parseSignedHeaders(fields.get('SignedHeaders')!);

  const amz = singleHeader(headers['x-amz-date'], 'X-Amz-Date');
  const http = singleHeader(headers['date'], 'Date');
  let signedAt: Date;
  if (amz !== undefined) signedAt = parseAmzDate(amz.trim());
  else if (http !== undefined) {
    const ms = Date.parse(http);
    if (Number.isNaN(ms)) throw incomplete(`Date header '${http}' is not a valid HTTP date.`);
    signedAt = new Date(Math.floor(ms / 1000) * 1000);
  } else throw new SigV4Error('MissingDate');
  const token = singleHeader(headers['x-amz-security-token'], 'X-Amz-Security-Token');
  return {
    presigned: false, scope, signedHeaders, signature: fields.get('Signature')!, signedAt, longDate: toAmzDate(signedAt),
    ...(token !== undefined ? { securityToken: token } : {}),
  };
}

/** The most a presigned URL may be valid for: 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

/** Reads the presigned form: `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`, `-Signature`. */
export function parsePresignedQuery(pairs: readonly QueryPair[]): SigV4Params {
  const names = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token'];
  const found = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (!names.includes(name)) continue;
    if (found.has(name)) throw incomplete(`Query parameter '${name}' must appear only once.`);
    found.set(name, value);
  }
  const algorithm = found.get('X-Amz-Algorithm');
  if (algorithm !== SIGV4_ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm ?? ''}'.`);
  if (!found.get('X-Amz-Date')) {
    throw new SigV4Error('MissingDate', "AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.");
  }
  const missing = ['X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Expires'].filter((k) => !found.get(k));
  if (missing.length > 0) {
    throw incomplete(`${missing.map((k) => `AWS query-string parameters must include '${k}'.`).join(' ')} Re-examine the query-string parameters.`);
  }
  const expires = found.get('X-Amz-Expires')!;
  if (!/^\d{1,7}$/.test(expires) || Number(expires) > MAX_PRESIGN_SECONDS) {
    throw incomplete(`X-Amz-Expires must be a whole number of seconds from 0 to ${MAX_PRESIGN_SECONDS} (one week), got '${expires}'.`);
  }
  const signedAt = parseAmzDate(found.get('X-Amz-Date')!);
  const token = found.get('X-Amz-Security-Token');
  return {
    presigned: true,
    scope: parseCredential(found.get('X-Amz-Credential')!),
    signedHeaders: parseSignedHeaders(found.get('X-Amz-SignedHeaders')!),
    signature: found.get('X-Amz-Signature')!,
    signedAt,
    longDate: toAmzDate(signedAt),
    expiresSeconds: Number(expires),
    ...(token !== undefined ? { securityToken: token } : {}),
  };
}
