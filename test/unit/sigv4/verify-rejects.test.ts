import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SigV4Error, verifySigV4, type IncomingSignedRequest, type SigV4Reason, type VerifySigV4Options } from '../../../src/auth/sigv4/index.js';
import {
  LONG_TERM, NOW, SESSION, defaultRecords, lookupOf, options, sha256Hex, signed, withAuthField, withHeaders, withQueryParam,
} from './helpers.js';

async function rejects(req: IncomingSignedRequest | Promise<IncomingSignedRequest>, reason: SigV4Reason, opts: VerifySigV4Options<string> = options()): Promise<SigV4Error> {
  let caught: unknown;
  try {
    await verifySigV4(await req, opts);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SigV4Error, `expected a SigV4Error ${reason}, got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  return caught;
}

const minutes = (n: number): Date => new Date(NOW.getTime() + n * 60_000);
const flipLastHex = (sig: string): string => sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');

describe('SigV4 verification rejects a tampered header-signed request with the exact reason', () => {
  it('SignatureMismatch when the method changed', async () => {
    await rejects({ ...(await signed()), method: 'PUT' }, 'SignatureMismatch');
  });
  it('SignatureMismatch when the path changed', async () => {
    await rejects({ ...(await signed({ path: '/a' })), rawPath: '/b' }, 'SignatureMismatch');
  });
  it('SignatureMismatch when a query parameter was added or changed', async () => {
    const req = await signed({ query: { maxResults: '10' } });
    await rejects({ ...req, rawQuery: 'maxResults=11' }, 'SignatureMismatch');
    await rejects({ ...req, rawQuery: `${req.rawQuery}&extra=1` }, 'SignatureMismatch');
  });
  it('SignatureMismatch when a signed header changed or disappeared', async () => {
    const req = await signed();
    await rejects(withHeaders(req, { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DeleteRepository' }), 'SignatureMismatch');
    await rejects(withHeaders(req, { host: 'evil.example:5000' }), 'SignatureMismatch');
    const err = await rejects(withHeaders(req, { 'content-type': undefined }), 'SignatureMismatch');
    assert.match(err.message, /content-type/);
  });
  it('SignatureMismatch when the body does not hash to the signed X-Amz-Content-Sha256', async () => {
    const err = await rejects({ ...(await signed()), bodySha256: sha256Hex('{"repositoryNames":["other"]}') }, 'SignatureMismatch');
    assert.match(err.message, /x-amz-content-sha256/);
  });
  it('SignatureMismatch when the body changed and its hash was signed only inside the canonical request', async () => {
    await rejects({ ...(await signed({ applyChecksum: false })), bodySha256: sha256Hex('tampered') }, 'SignatureMismatch');
  });
  it('SignatureMismatch when the signature hex was altered or is not hex at all', async () => {
    const req = await signed();
    const sig = /Signature=([0-9a-f]+)/.exec(String(req.headers['authorization']))![1]!;
    await rejects(withAuthField(req, 'Signature', flipLastHex(sig)), 'SignatureMismatch');
    await rejects(withAuthField(req, 'Signature', 'z'.repeat(64)), 'SignatureMismatch');
    await rejects(withAuthField(req, 'Signature', sig.slice(0, 32)), 'SignatureMismatch');
  });
  it('SignatureMismatch when signed with another secret, and the message never contains a secret', async () => {
    const err = await rejects(signed({ key: { ...LONG_TERM, secretAccessKey: 'not-the-secret' } }), 'SignatureMismatch');
    assert.equal(err.message.includes(LONG_TERM.secretAccessKey), false);
    assert.match(err.message, /^The request signature we calculated does not match/);
  });
  it('SignatureMismatch when the credential scope date is not the X-Amz-Date day', async () => {
    const req = await signed();
    const auth = String(req.headers['authorization']).replace('/20261127/', '/20261126/');
    await rejects(withHeaders(req, { authorization: auth }), 'SignatureMismatch');
  });
  it('RequestExpired when signed 16 minutes ago or 16 minutes in the future, worded as AWS words it', async () => {
    const past = await rejects(signed({ signingDate: minutes(-16) }), 'RequestExpired');
    assert.equal(past.message, 'Signature expired: 20261127T094400Z is now earlier than 20261127T094500Z (20261127T100000Z - 15 min.)');
    const future = await rejects(signed({ signingDate: minutes(16) }), 'RequestExpired');
    assert.match(future.message, /^Signature not yet current: 20261127T101600Z is still later than/);
  });
  it('honours a custom maxSkewMs', async () => {
    await rejects(signed({ signingDate: minutes(-6) }), 'RequestExpired', options({ maxSkewMs: 5 * 60_000 }));
  });
  it('WrongService and WrongRegion when the credential scope names another service or region', async () => {
    const svc = await rejects(signed({ service: 'iam' }), 'WrongService', options({ services: ['ecr'] }));
    assert.equal(svc.message, "Credential should be scoped to correct service: 'ecr'. ");
    const region = await rejects(signed({ region: 'eu-west-1' }), 'WrongRegion');
    assert.equal(region.message, "Credential should be scoped to a valid region, not 'eu-west-1'. ");
  });
  it('UnknownAccessKey for an access key id the store does not know', async () => {
    await rejects(signed({ key: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } }), 'UnknownAccessKey');
  });
  it('InvalidSecurityToken when session credentials come without their token, with a wrong one, or a long-term key brings one', async () => {
    await rejects(withHeaders(await signed({ key: SESSION }), { 'x-amz-security-token': undefined }), 'InvalidSecurityToken');
    await rejects(signed({ key: { ...SESSION, sessionToken: undefined } }), 'InvalidSecurityToken');
    await rejects(signed({ key: { ...SESSION, sessionToken: `${SESSION.sessionToken}x` } }), 'InvalidSecurityToken');
    await rejects(signed({ key: { ...LONG_TERM, sessionToken: 'some-token' } }), 'InvalidSecurityToken');
  });
  it('ExpiredToken when the session credentials have expired', async () => {
    const records = defaultRecords();
    records[SESSION.accessKeyId] = { ...records[SESSION.accessKeyId]!, expiresAt: minutes(-1) };
    const err = await rejects(signed({ key: SESSION }), 'ExpiredToken', options({ lookup: lookupOf(records) }));
    assert.equal(err.message, 'The security token included in the request is expired');
  });
});

describe('SigV4 verification rejects malformed or missing authentication', () => {
  it('MissingAuthentication with neither an Authorization header nor X-Amz-Algorithm', async () => {
    await rejects(withHeaders(await signed(), { authorization: undefined }), 'MissingAuthentication');
  });
  it('IncompleteSignature when Credential, SignedHeaders or Signature is missing', async () => {
    const req = await signed();
    const auth = String(req.headers['authorization']);
    for (const field of ['Credential', 'SignedHeaders', 'Signature']) {
      const without = auth.replace(new RegExp(`${field}=[^,]*,? ?`), '');
      const err = await rejects(withHeaders(req, { authorization: without }), 'IncompleteSignature');
      assert.match(err.message, new RegExp(`requires '${field}' parameter`));
    }
  });
  it('IncompleteSignature for a bad credential scope, a scope without host, or another algorithm', async () => {
    const req = await signed();
    await rejects(withAuthField(req, 'Credential', `${LONG_TERM.accessKeyId}/20261127/us-east-1/ecr/aws5_request`), 'IncompleteSignature');
    await rejects(withAuthField(req, 'Credential', `${LONG_TERM.accessKeyId}/20261127/us-east-1`), 'IncompleteSignature');
    await rejects(withAuthField(req, 'Credential', `${LONG_TERM.accessKeyId}/2026-11-27/us-east-1/ecr/aws4_request`), 'IncompleteSignature');
    await rejects(withAuthField(req, 'SignedHeaders', 'x-amz-date'), 'IncompleteSignature');
    const auth = String(req.headers['authorization']);
    await rejects(withHeaders(req, { authorization: auth.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256') }), 'IncompleteSignature');
    await rejects(withHeaders(req, { authorization: 'Basic QVdTOnNlY3JldA==' }), 'IncompleteSignature');
    await rejects(withHeaders(req, { 'x-amz-date': '2026-11-27T10:00:00Z' }), 'IncompleteSignature');
  });
  it('IncompleteSignature when both the Authorization header and presigned parameters are present', async () => {
    const req = await signed();
    await rejects({ ...req, rawQuery: 'X-Amz-Algorithm=AWS4-HMAC-SHA256' }, 'IncompleteSignature');
  });
  it('MissingDate when neither X-Amz-Date nor Date is present', async () => {
    await rejects(withHeaders(await signed(), { 'x-amz-date': undefined }), 'MissingDate');
  });
  it('uses the Date header when X-Amz-Date is absent (so a request signed at another time does not match)', async () => {
    const req = withHeaders(await signed(), { 'x-amz-date': undefined, date: 'Fri, 27 Nov 2026 10:00:01 GMT' });
    await rejects(req, 'SignatureMismatch');
  });
});

describe('SigV4 verification rejects a tampered presigned URL with the exact reason', () => {
  const presigned = (over = {}) => signed({ presignExpiresIn: 300, query: { Action: 'GetCallerIdentity', Version: '2011-06-15' }, ...over });

  it('RequestExpired once X-Amz-Expires has passed, or when used 16 minutes before its date', async () => {
    const err = await rejects(presigned(), 'RequestExpired', options({ now: new Date(NOW.getTime() + 301_000) }));
    assert.equal(err.message, 'Request has expired');
    await rejects(presigned({ signingDate: minutes(16) }), 'RequestExpired');
  });
  it('IncompleteSignature when X-Amz-Expires exceeds seven days or is not a number', async () => {
    const req = await presigned();
    await rejects(withQueryParam(req, 'X-Amz-Expires', '604801'), 'IncompleteSignature');
    await rejects(withQueryParam(req, 'X-Amz-Expires', '-5'), 'IncompleteSignature');
  });
  it('SignatureMismatch when a parameter, the method, the path or the signature changed', async () => {
    const req = await presigned();
    await rejects(withQueryParam(req, 'Action', 'AssumeRole'), 'SignatureMismatch');
    await rejects(withQueryParam(req, 'X-Amz-Expires', '3600'), 'SignatureMismatch');
    await rejects({ ...req, method: 'POST' }, 'SignatureMismatch');
    await rejects({ ...req, rawPath: '/x' }, 'SignatureMismatch');
    const sig = /X-Amz-Signature=([0-9a-f]+)/.exec(req.rawQuery)![1]!;
    await rejects(withQueryParam(req, 'X-Amz-Signature', flipLastHex(sig)), 'SignatureMismatch');
  });
  it('MissingDate without X-Amz-Date and IncompleteSignature without X-Amz-Credential or a second copy of one', async () => {
    const req = await presigned();
    await rejects(withQueryParam(req, 'X-Amz-Date', undefined), 'MissingDate');
    await rejects(withQueryParam(req, 'X-Amz-Credential', undefined), 'IncompleteSignature');
    await rejects({ ...req, rawQuery: `${req.rawQuery}&X-Amz-SignedHeaders=host` }, 'IncompleteSignature');
  });
  it('InvalidSecurityToken when the session token was stripped or swapped, ExpiredToken after the session ends', async () => {
    const req = await presigned({ key: SESSION });
    await rejects(withQueryParam(req, 'X-Amz-Security-Token', undefined), 'InvalidSecurityToken');
    await rejects(withQueryParam(req, 'X-Amz-Security-Token', 'other'), 'InvalidSecurityToken');
    const records = defaultRecords();
    records[SESSION.accessKeyId] = { ...records[SESSION.accessKeyId]!, expiresAt: NOW };
    await rejects(req, 'ExpiredToken', options({ lookup: lookupOf(records) }));
  });
  it('WrongService and WrongRegion from the presigned credential scope', async () => {
    await rejects(presigned({ service: 'sts' }), 'WrongService');
    await rejects(presigned({ region: 'ap-south-1' }), 'WrongRegion');
  });
});

describe('SigV4 verification refuses what would let a captured request be replayed with other content', () => {
  it('SignatureMismatch for X-Amz-Content-Sha256: UNSIGNED-PAYLOAD (AWS allows it only for S3), even when the signature is right', async () => {
    const req = await signed({ headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    const err = await rejects(req, 'SignatureMismatch');
    assert.match(err.message, /UNSIGNED-PAYLOAD is accepted only by Amazon S3/);
    // The same request under another body: exactly the replay the refusal prevents.
    await rejects({ ...req, bodySha256: sha256Hex('{"repositoryNames":["other"]}') }, 'SignatureMismatch');
  });
  it('SignatureMismatch for a presigned URL signed over UNSIGNED-PAYLOAD, and for a body the caller could not hash', async () => {
    await rejects(signed({ presignExpiresIn: 300, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }), 'SignatureMismatch');
    await rejects({ ...(await signed()), bodySha256: 'UNSIGNED-PAYLOAD' }, 'SignatureMismatch');
  });
  it('IncompleteSignature when the Authorization (or Host) header appears twice, whichever copy is valid', async () => {
    const req = await signed();
    const auth = String(req.headers['authorization']);
    const raw = (extra: string[]) => ['Host', String(req.headers['host']), 'Authorization', auth, ...extra];
    const twice = await rejects({ ...req, rawHeaders: raw(['authorization', auth.replace(/Signature=\w+/, 'Signature=00')]) }, 'IncompleteSignature');
    assert.match(twice.message, /'Authorization' header must appear only once/);
    await rejects({ ...req, rawHeaders: raw(['AUTHORIZATION', auth]) }, 'IncompleteSignature');
    await rejects({ ...req, rawHeaders: raw(['host', 'evil.example']) }, 'IncompleteSignature');
    await verifySigV4({ ...req, rawHeaders: raw([]) }, options());
  });
});
