/**
 * Server-side AWS Signature Version 4 verification for the AWS surfaces (ECR, ECR Public, KMS, IAM, STS),
 * framework-free: the caller hands over the request as it came off the wire and a key lookup.
 *
 * Order of checks (each failure is a {@link SigV4Error} with AWS's wording):
 *   syntax → credential scope (service, region) → clock (±15 min, or presign window) → scope date
 *   → key lookup → session token → token expiry → payload hash → signature (constant time).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { canonicalRequest, parseQuery } from './canonical.js';
import { SigV4Error } from './errors.js';
import { parseAuthorizationHeader, parsePresignedQuery, singleHeader, toAmzDate, type SigV4Params } from './parse.js';
import { SigningKeyCache, hmacHex, sha256Hex } from './signing-key.js';

/** A request as received, before any decoding. */
export interface IncomingSignedRequest {
  readonly method: string;
  /** Path exactly as received on the wire (still percent-encoded), without the query. */
  readonly rawPath: string;
  /** Query string exactly as received, without `?`. */
  readonly rawQuery: string;
  /** Lower-case header names, as node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Lower-case hex SHA-256 of the body as received, or `UNSIGNED-PAYLOAD` when the caller has no body hash. */
  readonly bodySha256: string;
  /**
   * Header names and values as received, alternating (node's `req.rawHeaders`). Node keeps only the first
   * of a repeated `Authorization` or `Host`, so a second copy is visible only here; when given, a request
   * that repeats either is refused rather than served on the copy node kept.
   */
  readonly rawHeaders?: readonly string[];
}

/** What the key store knows about one access key id. */
export interface SigningKeyRecord<P = unknown> {
  readonly secretAccessKey: string;
  /** Set for STS session credentials: the request must then carry exactly this `X-Amz-Security-Token`. */
  readonly sessionToken?: string;
  /** When session credentials stop working. */
  readonly expiresAt?: Date;
  /** Whatever the caller wants back on success (e.g. the principal); never inspected here. */
  readonly principal?: P;
}

/** Finds an access key; resolves `undefined` for an unknown one. Its own errors propagate unchanged. */
export type SigningKeyLookup<P = unknown> = (accessKeyId: string) => Promise<SigningKeyRecord<P> | undefined>;

/** Options of {@link verifySigV4}. */
export interface VerifySigV4Options<P = unknown> {
  readonly lookup: SigningKeyLookup<P>;
  readonly now: Date;
  /** Region(s) a credential scope may name. */
  readonly region: string | readonly string[];
  /** Accepted service names of the credential scope, e.g. `['ecr']`, `['iam']`, `['sts']`. */
  readonly services: readonly string[];
  /** Allowed clock difference for the header form, and how early a presigned URL may be used. 15 min by default. */
  readonly maxSkewMs?: number;
  /** Derived-key cache; a module-wide one (256 entries) by default. */
  readonly keyCache?: SigningKeyCache;
  /**
   * Accept a signature over `UNSIGNED-PAYLOAD` instead of the body's hash. AWS allows that only for S3;
   * every service berth speaks (ECR, ECR Public, KMS, IAM, STS) signs its body, and an unsigned body could
   * be swapped on a captured request. False by default: the signature must cover the body.
   */
  readonly allowUnsignedPayload?: boolean;
}

/** A request whose signature checked out. Holds no secret. */
export interface VerifiedSigV4<P = unknown> {
  readonly accessKeyId: string;
  readonly service: string;
  readonly region: string;
  readonly signedHeaders: string[];
  readonly presigned: boolean;
  /** When the client signed the request. */
  readonly signedAt: Date;
  /**
   * True when the signature covers the body hash the caller supplied. False (possible only with
   * `allowUnsignedPayload`) when the client signed `UNSIGNED-PAYLOAD`, or when the caller passed
   * `UNSIGNED-PAYLOAD` as `bodySha256` (the body is then not authenticated by the signature).
   */
  readonly payloadVerified: boolean;
  /** True when the key is a session credential (its token was checked). */
  readonly sessionCredentials: boolean;
  /** The lookup's `principal`, passed through. */
  readonly principal: P | undefined;
}

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const DEFAULT_SKEW_MS = 15 * 60 * 1000;
const defaultCache = new SigningKeyCache(256);

/** Which SigV4 form a request uses, if any — lets a surface tell SigV4 from other credentials cheaply. */
export function detectSigV4(req: Pick<IncomingSignedRequest, 'headers' | 'rawQuery'>): 'header' | 'presigned' | undefined {
  if (req.headers['authorization'] !== undefined) return 'header';
  return /(^|&)X-Amz-Algorithm=/.test(req.rawQuery) ? 'presigned' : undefined;
}

/**
 * Verifies an AWS SigV4-signed request (Authorization header or presigned query).
 * @returns who signed it and how.
 * @throws {SigV4Error} for every authentication failure; errors of `opts.lookup` propagate as they are.
 */
export async function verifySigV4<P = unknown>(req: IncomingSignedRequest, opts: VerifySigV4Options<P>): Promise<VerifiedSigV4<P>> {
  const query = parseQuery(req.rawQuery);
  if (req.rawHeaders !== undefined) refuseRepeatedHeaders(req.rawHeaders);
  const authorization = singleHeader(req.headers['authorization'], 'Authorization');
  const presignedForm = query.some(([name]) => name === 'X-Amz-Algorithm');
  if (authorization === undefined && !presignedForm) throw new SigV4Error('MissingAuthentication');
  if (authorization !== undefined && presignedForm) {
    throw new SigV4Error('IncompleteSignature', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.');
  }
  const params = authorization !== undefined ? parseAuthorizationHeader(authorization, req.headers) : parsePresignedQuery(query);
  const { scope } = params;

  if (!opts.services.includes(scope.service)) {
    throw new SigV4Error('WrongService', `Credential should be scoped to correct service: '${opts.services[0] ?? ''}'. `);
  }
  const regions: readonly string[] = typeof opts.region === 'string' ? [opts.region] : opts.region;
  if (!regions.includes(scope.region)) {
    throw new SigV4Error('WrongRegion', `Credential should be scoped to a valid region, not '${scope.region}'. `);
  }
  checkClock(params, opts.now, opts.maxSkewMs ?? DEFAULT_SKEW_MS);
  if (params.longDate.slice(0, 8) !== scope.date) {
    throw new SigV4Error('SignatureMismatch', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope.date}' != '${params.longDate.slice(0, 8)}', from '${params.longDate}'.`);
  }

  const key = await opts.lookup(scope.accessKeyId);
  if (key === undefined) throw new SigV4Error('UnknownAccessKey');
  checkSessionToken(key, params.securityToken);
  if (key.expiresAt !== undefined && opts.now.getTime() >= key.expiresAt.getTime()) throw new SigV4Error('ExpiredToken');

  const signingKey = (opts.keyCache ?? defaultCache).get(key.secretAccessKey, scope.date, scope.region, scope.service);
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const provided = /^[0-9a-fA-F]{64}$/.test(params.signature) ? Buffer.from(params.signature, 'hex') : undefined;
  let matchedHash: string | undefined;
  const { candidates, body } = payloadHashCandidates(req, params, opts.allowUnsignedPayload === true);
  for (const payloadHash of candidates) {
    const canonical = canonicalRequest({
      method: req.method, rawPath: req.rawPath, query, signedHeaders: params.signedHeaders, headers: req.headers, payloadHash,
      ...(params.presigned ? { excludeQuery: 'X-Amz-Signature' } : {}),
    });
    const stringToSign = ['AWS4-HMAC-SHA256', params.longDate, credentialScope, sha256Hex(canonical)].join('\n');
    const expected = Buffer.from(hmacHex(signingKey, stringToSign), 'hex');
    if (provided !== undefined && timingSafeEqual(expected, provided)) {
      matchedHash = payloadHash;
      break;
    }
  }
  if (matchedHash === undefined) throw new SigV4Error('SignatureMismatch');
  return {
    accessKeyId: scope.accessKeyId, service: scope.service, region: scope.region, signedHeaders: [...params.signedHeaders],
    presigned: params.presigned, signedAt: params.signedAt, payloadVerified: body !== UNSIGNED_PAYLOAD && matchedHash.toLowerCase() === body,
    sessionCredentials: key.sessionToken !== undefined, principal: key.principal,
  };
}

function checkClock(params: SigV4Params, now: Date, skewMs: number): void {
  const signed = params.signedAt.getTime();
  const at = now.getTime();
  const minutes = Math.round(skewMs / 60000);
  if (signed > at + skewMs) {
    const msg = params.presigned
      ? 'Request is not yet valid.'
      : `Signature not yet current: ${params.longDate} is still later than ${toAmzDate(new Date(at + skewMs))} (${toAmzDate(now)} + ${minutes} min.)`;
    throw new SigV4Error('RequestExpired', msg);
  }
  if (params.presigned) {
    if (at > signed + (params.expiresSeconds ?? 0) * 1000) throw new SigV4Error('RequestExpired', 'Request has expired');
  } else if (signed < at - skewMs) {
    throw new SigV4Error('RequestExpired', `Signature expired: ${params.longDate} is now earlier than ${toAmzDate(new Date(at - skewMs))} (${toAmzDate(now)} - ${minutes} min.)`);
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Session credentials need their exact token; a long-term key must come without one. */
function checkSessionToken(key: SigningKeyRecord<unknown>, given: string | undefined): void {
  if (key.sessionToken === undefined) {
    if (given !== undefined && given !== '') throw new SigV4Error('InvalidSecurityToken');
    return;
  }
  if (given === undefined || !timingSafeEqual(digest(given), digest(key.sessionToken))) throw new SigV4Error('InvalidSecurityToken');
}

/** Headers node would silently fold to their first copy; SigV4 reads both, so a repeat is refused. */
const SINGLE_HEADERS: Readonly<Record<string, string>> = { authorization: 'Authorization', host: 'Host' };

function refuseRepeatedHeaders(raw: readonly string[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const display = SINGLE_HEADERS[name];
    if (display === undefined) continue;
    if (seen.has(name)) throw new SigV4Error('IncompleteSignature', `The '${display}' header must appear only once.`);
    seen.add(name);
  }
}

const UNSIGNED_REFUSED = 'The request signature must cover the request body: UNSIGNED-PAYLOAD is accepted only by Amazon S3.';

/**
 * The payload hash(es) the client may have signed. `X-Amz-Content-Sha256`, when sent, is what was signed:
 * a hex digest must match the body; `UNSIGNED-PAYLOAD` is taken as is only when `allowUnsigned`. Without
 * the header the body's own hash was signed — or, for a presigned URL and only when `allowUnsigned`,
 * `UNSIGNED-PAYLOAD` (S3-style presigners): both are tried then.
 */
function payloadHashCandidates(req: IncomingSignedRequest, params: SigV4Params, allowUnsigned: boolean): { candidates: string[]; body: string } {
  const header = singleHeader(req.headers['x-amz-content-sha256'], 'X-Amz-Content-Sha256')?.trim();
  const body = req.bodySha256.toLowerCase() === UNSIGNED_PAYLOAD.toLowerCase() ? UNSIGNED_PAYLOAD : req.bodySha256.toLowerCase();
  if (!allowUnsigned && (body === UNSIGNED_PAYLOAD || header === UNSIGNED_PAYLOAD)) throw new SigV4Error('SignatureMismatch', UNSIGNED_REFUSED);
  if (header !== undefined) {
    if (header === UNSIGNED_PAYLOAD) return { candidates: [UNSIGNED_PAYLOAD], body };
    if (!/^[0-9a-fA-F]{64}$/.test(header)) {
      throw new SigV4Error('IncompleteSignature', `x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 hex digest, got '${header}'.`);
    }
    if (body !== UNSIGNED_PAYLOAD && header.toLowerCase() !== body) {
      throw new SigV4Error('SignatureMismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    return { candidates: [header], body };
  }
  return { candidates: params.presigned && allowUnsigned && body !== UNSIGNED_PAYLOAD ? [body, UNSIGNED_PAYLOAD] : [body], body };
}
