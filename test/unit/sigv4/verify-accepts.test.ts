import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectSigV4, verifySigV4 } from '../../../src/auth/sigv4/index.js';
import { LONG_TERM, NOW, SESSION, options, signed, withHeaders } from './helpers.js';

// Requests signed by the AWS SDK's own signer (@smithy/signature-v4) must verify, in every shape a client sends.
describe('SigV4 verification accepts what the AWS SDK signs', () => {
  for (const service of ['ecr', 'iam', 'sts']) {
    it(`accepts an Authorization-header request signed for ${service} with a long-term key`, async () => {
      const ok = await verifySigV4(await signed({ service }), options({ services: [service] }));
      assert.deepEqual(
        { id: ok.accessKeyId, service: ok.service, region: ok.region, presigned: ok.presigned, session: ok.sessionCredentials, principal: ok.principal },
        { id: LONG_TERM.accessKeyId, service, region: 'us-east-1', presigned: false, session: false, principal: 'user/alice' },
      );
      assert.equal(ok.payloadVerified, true);
      assert.equal(ok.signedAt.getTime(), NOW.getTime());
      assert.ok(ok.signedHeaders.includes('host') && ok.signedHeaders.includes('x-amz-target'));
    });

    it(`accepts an Authorization-header request signed for ${service} with session credentials and their token`, async () => {
      const ok = await verifySigV4(await signed({ service, key: SESSION }), options({ services: [service] }));
      assert.equal(ok.accessKeyId, SESSION.accessKeyId);
      assert.equal(ok.sessionCredentials, true);
      assert.equal(ok.principal, 'assumed-role/builder/session');
    });

    it(`accepts a presigned GET URL for ${service}, with and without a session token`, async () => {
      const query = { Action: 'GetCallerIdentity', Version: '2011-06-15' };
      const plain = await verifySigV4(await signed({ service, presignExpiresIn: 900, query }), options({ services: [service] }));
      assert.equal(plain.presigned, true);
      const session = await verifySigV4(await signed({ service, key: SESSION, presignExpiresIn: 900, query }), options({ services: [service] }));
      assert.equal(session.sessionCredentials, true);
    });
  }

  it('accepts a Query-protocol form POST (IAM) whose body hash is not among the signed headers', async () => {
    const body = 'Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fteam%2F';
    const req = await signed({ service: 'iam', body, applyChecksum: false, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } });
    assert.equal(req.headers['x-amz-content-sha256'], undefined);
    const ok = await verifySigV4(req, options({ services: ['iam'] }));
    assert.equal(ok.payloadVerified, true);
  });

  it('accepts paths with spaces, plus signs, unicode, sub-delimiters and dot segments (normalized, double-encoded)', async () => {
    for (const path of ['/v2/my%20repo/a+b/%E2%9C%93/x%21%27%28%29%2A', '/a//b/./c/../d/', '/%25literal%25/~tilde', '/ecr:colon@at']) {
      const ok = await verifySigV4(await signed({ path }), options());
      assert.equal(ok.accessKeyId, LONG_TERM.accessKeyId, path);
    }
  });

  it('accepts repeated and percent-encoded query parameters, in any wire order', async () => {
    const query = { b: ['2', '1', '10'], a: 'x y', 'c~d': 'é&=/?', 'X-Thing': "!'()*+", empty: '' };
    const req = await signed({ query });
    await verifySigV4(req, options());
    const reordered = { ...req, rawQuery: req.rawQuery.split('&').reverse().join('&') };
    await verifySigV4(reordered, options());
    const presigned = await signed({ query, presignExpiresIn: 60 });
    await verifySigV4({ ...presigned, rawQuery: presigned.rawQuery.split('&').reverse().join('&') }, options());
  });

  it('accepts X-Amz-Content-Sha256: UNSIGNED-PAYLOAD only when allowed (S3-style), reporting the body as not verified', async () => {
    const req = await signed({ headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    const ok = await verifySigV4(req, options({ allowUnsignedPayload: true }));
    assert.equal(ok.payloadVerified, false);
  });

  it('accepts a presigned URL signed over UNSIGNED-PAYLOAD when allowed, as S3-style presigners do', async () => {
    const req = await signed({ presignExpiresIn: 300, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    assert.match(req.rawQuery, /x-amz-content-sha256=UNSIGNED-PAYLOAD/i);
    const ok = await verifySigV4(req, options({ allowUnsignedPayload: true }));
    assert.equal(ok.payloadVerified, false);
  });

  it('accepts a request whose body hash the caller could not compute (bodySha256 UNSIGNED-PAYLOAD) on the signed header hash, when allowed', async () => {
    const ok = await verifySigV4({ ...(await signed()), bodySha256: 'UNSIGNED-PAYLOAD' }, options({ allowUnsignedPayload: true }));
    assert.equal(ok.payloadVerified, false);
  });

  it('accepts clocks up to 15 minutes apart either way, and a presigned URL until its last second', async () => {
    await verifySigV4(await signed({ signingDate: new Date(NOW.getTime() - 15 * 60_000) }), options());
    await verifySigV4(await signed({ signingDate: new Date(NOW.getTime() + 15 * 60_000) }), options());
    await verifySigV4(await signed({ presignExpiresIn: 60 }), options({ now: new Date(NOW.getTime() + 60_000) }));
    await verifySigV4(await signed({ presignExpiresIn: 604800 }), options({ now: new Date(NOW.getTime() + 604800_000) }));
  });

  it('accepts any of several configured regions and services', async () => {
    const ok = await verifySigV4(await signed({ region: 'eu-west-1', service: 'ecr-public' }), options({ region: ['us-east-1', 'eu-west-1'], services: ['ecr', 'ecr-public'] }));
    assert.deepEqual([ok.region, ok.service], ['eu-west-1', 'ecr-public']);
  });

  it('accepts a header value with extra inner whitespace, since the canonical form collapses it', async () => {
    const req = await signed({ headers: { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.ListImages' } });
    await verifySigV4(withHeaders(req, { 'x-amz-target': '  AmazonEC2ContainerRegistry_V20150921.ListImages  ' }), options());
  });

  it('tells the header form, the presigned form and no SigV4 apart', async () => {
    assert.equal(detectSigV4(await signed()), 'header');
    assert.equal(detectSigV4(await signed({ presignExpiresIn: 60 })), 'presigned');
    assert.equal(detectSigV4({ headers: {}, rawQuery: 'a=1' }), undefined);
  });
});
