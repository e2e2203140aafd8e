// Builds real SigV4-signed requests with the AWS SDK's own signer (@smithy/signature-v4) and turns them into
// what the server sees on the wire, so the verifier is tested against the client it must interoperate with.
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest, buildQueryString } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { IncomingSignedRequest, SigningKeyLookup, SigningKeyRecord, VerifySigV4Options } from '../../../src/auth/sigv4/index.js';

export const NOW = new Date('2026-11-27T10:00:00Z');
export const HOST = '127.0.0.1:5000';

export interface TestKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}
export const LONG_TERM: TestKey = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
export const SESSION: TestKey = {
  accessKeyId: 'ASIAIOSFODNN7SESSION',
  secretAccessKey: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+session=token',
};

/** The key store of the tests: both keys, the session one valid for another hour. */
export function lookupOf(records: Record<string, SigningKeyRecord<string>> = defaultRecords()): SigningKeyLookup<string> {
  return async (id) => records[id];
}
export function defaultRecords(): Record<string, SigningKeyRecord<string>> {
  return {
    [LONG_TERM.accessKeyId]: { secretAccessKey: LONG_TERM.secretAccessKey, principal: 'user/alice' },
    [SESSION.accessKeyId]: {
      secretAccessKey: SESSION.secretAccessKey,
      sessionToken: SESSION.sessionToken!,
      expiresAt: new Date(NOW.getTime() + 3600_000),
      principal: 'assumed-role/builder/session',
    },
  };
}

export function options(over: Partial<VerifySigV4Options<string>> = {}): VerifySigV4Options<string> {
  return { lookup: lookupOf(), now: NOW, region: 'us-east-1', services: ['ecr'], ...over };
}

export interface SignSpec {
  readonly service?: string;
  readonly region?: string;
  readonly method?: string;
  /** Wire path (already percent-encoded, as the SDK puts it on the request). */
  readonly path?: string;
  readonly query?: Record<string, string | string[]>;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly key?: TestKey;
  readonly signingDate?: Date;
  /** Presign instead of signing the Authorization header. */
  readonly presignExpiresIn?: number;
  /** Let the signer add X-Amz-Content-Sha256 (the SDK default); false keeps the body hash out of the headers. */
  readonly applyChecksum?: boolean;
}

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** An ECR-style JSON 1.1 call: POST / with X-Amz-Target, signed by the SDK's signer. */
export async function signed(spec: SignSpec = {}): Promise<IncomingSignedRequest> {
  const key = spec.key ?? LONG_TERM;
  const signer = new SignatureV4({
    service: spec.service ?? 'ecr',
    region: spec.region ?? 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}) },
    sha256: Sha256,
    applyChecksum: spec.applyChecksum ?? true,
  });
  const body = spec.body ?? (spec.presignExpiresIn === undefined ? '{"repositoryNames":["web"]}' : undefined);
  const request = new HttpRequest({
    method: spec.method ?? (spec.presignExpiresIn === undefined ? 'POST' : 'GET'),
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 5000,
    path: spec.path ?? '/',
    query: spec.query ?? {},
    headers: {
      host: HOST,
      ...(spec.presignExpiresIn === undefined
        ? { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' }
        : {}),
      ...spec.headers,
    },
    ...(body !== undefined ? { body } : {}),
  });
  const signingDate = spec.signingDate ?? NOW;
  const out = spec.presignExpiresIn === undefined
    ? await signer.sign(request, { signingDate })
    : await signer.presign(request, { signingDate, expiresIn: spec.presignExpiresIn });
  return onTheWire(out as HttpRequest, body ?? '');
}

/** What a node:http server would hand the verifier for this SDK request. */
export function onTheWire(r: HttpRequest, body: string): IncomingSignedRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) headers[name.toLowerCase()] = value;
  return { method: r.method, rawPath: r.path, rawQuery: buildQueryString(r.query), headers, bodySha256: sha256Hex(body) };
}

/** A copy of `req` with some headers replaced (undefined deletes). */
export function withHeaders(req: IncomingSignedRequest, changes: Record<string, string | undefined>): IncomingSignedRequest {
  const headers: Record<string, string | string[] | undefined> = { ...req.headers };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return { ...req, headers };
}

/** A copy of `req` whose query parameter `name` is replaced (undefined deletes). */
export function withQueryParam(req: IncomingSignedRequest, name: string, value: string | undefined): IncomingSignedRequest {
  const parts = req.rawQuery.split('&').filter((p) => p.split('=')[0] !== name);
  if (value !== undefined) parts.push(`${name}=${encodeURIComponent(value)}`);
  return { ...req, rawQuery: parts.join('&') };
}

/** Replaces `field=value` inside the Authorization header. */
export function withAuthField(req: IncomingSignedRequest, field: string, value: string): IncomingSignedRequest {
  const auth = String(req.headers['authorization']);
  return withHeaders(req, { authorization: auth.replace(new RegExp(`${field}=[^,]*`), `${field}=${value}`) });
}
