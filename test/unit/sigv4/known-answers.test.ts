import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalQuery, canonicalUri, escapeUri, parseQuery, canonicalHeaderValue } from '../../../src/auth/sigv4/canonical.js';
import { SigV4Error, SigningKeyCache, sigV4ErrorNames, verifySigV4, type IncomingSignedRequest, type SigV4Reason } from '../../../src/auth/sigv4/index.js';
import { deriveSigningKey } from '../../../src/auth/sigv4/signing-key.js';
import { sha256Hex } from './helpers.js';

// AWS's published SigV4 test suite (aws-sig-v4-test-suite: get-vanilla, get-vanilla-query-order-key-case,
// post-vanilla) and the IAM ListUsers example of the SigV4 docs: signatures computed by AWS, not by us.
const SUITE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const suiteLookup = async (id: string) => (id === 'AKIDEXAMPLE' ? { secretAccessKey: SUITE_SECRET } : undefined);

function suiteRequest(method: string, rawQuery: string, signature: string): IncomingSignedRequest {
  return {
    method, rawPath: '/', rawQuery, bodySha256: sha256Hex(''),
    headers: {
      host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    },
  };
}
const suiteOptions = { lookup: suiteLookup, now: new Date('2015-08-30T12:40:00Z'), region: 'us-east-1', services: ['service'] };

describe('SigV4 known answers from AWS', () => {
  it('derives the published signing key for the test-suite credentials', () => {
    const key = deriveSigningKey(SUITE_SECRET, '20150830', 'us-east-1', 'service');
    assert.equal(key.toString('hex'), '938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75');
  });

  const vectors: [string, string, string, string][] = [
    ['get-vanilla', 'GET', '', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['get-vanilla-query-order-key-case', 'GET', 'Param2=value2&Param1=value1', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
    ['post-vanilla', 'POST', '', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
  ];
  for (const [name, method, query, signature] of vectors) {
    it(`accepts the AWS test-suite request ${name}`, async () => {
      const ok = await verifySigV4(suiteRequest(method, query, signature), suiteOptions);
      assert.equal(ok.accessKeyId, 'AKIDEXAMPLE');
      assert.deepEqual(ok.signedHeaders, ['host', 'x-amz-date']);
    });
  }

  it('accepts the IAM ListUsers POST example of the SigV4 documentation', async () => {
    const body = 'Action=ListUsers&Version=2010-05-08';
    const ok = await verifySigV4({
      method: 'POST', rawPath: '/', rawQuery: '', bodySha256: sha256Hex(body),
      headers: {
        host: 'iam.amazonaws.com', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-amz-date': '20110909T233600Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c',
      },
    }, { ...suiteOptions, now: new Date('2011-09-09T23:40:00Z'), services: ['iam'] });
    assert.equal(ok.service, 'iam');
    assert.equal(ok.payloadVerified, true);
  });
});

describe('SigV4 canonical forms', () => {
  it('percent-encodes everything outside the RFC 3986 unreserved set, including !\'()*', () => {
    assert.equal(escapeUri("a-b_c.d~e f/g+h!'()*é"), "a-b_c.d~e%20f%2Fg%2Bh%21%27%28%29%2A%C3%A9");
  });

  const uris: [string, string][] = [
    ['', '/'], ['/', '/'], ['/a/b', '/a/b'], ['/a//b/', '/a/b/'], ['/a/./b/../c', '/a/c'], ['/../a', '/a'],
    ['/my%20repo/x+y', '/my%2520repo/x%2By'], ['/%E2%9C%93', '/%25E2%259C%2593'], ['/a:b@c', '/a%3Ab%40c'],
  ];
  for (const [raw, canonical] of uris) {
    it(`normalizes and double-encodes the wire path ${JSON.stringify(raw)} as ${canonical}`, () => {
      assert.equal(canonicalUri(raw), canonical);
    });
  }

  it('sorts the query by encoded name then value, re-encodes it, and keeps a literal plus', () => {
    const pairs = parseQuery('b=2&a=x%20y&b=1&c~d=%C3%A9%26%3D&A=0&p=1+1&flag');
    assert.equal(canonicalQuery(pairs), 'A=0&a=x%20y&b=1&b=2&c~d=%C3%A9%26%3D&flag=&p=1%2B1');
  });

  it('leaves a presigned X-Amz-Signature out of the canonical query, whatever its case', () => {
    assert.equal(canonicalQuery(parseQuery('X-Amz-Signature=ab&x=1&x-amz-signature=cd'), 'X-Amz-Signature'), 'x=1');
  });

  it('rejects a query with a broken percent-encoding as an incomplete signature', () => {
    assert.throws(() => parseQuery('a=%zz'), (e: unknown) => e instanceof SigV4Error && e.reason === 'IncompleteSignature');
  });

  it('trims header values, collapses inner whitespace and joins repeated values with a comma', () => {
    assert.equal(canonicalHeaderValue('  a   b\t c  '), 'a b c');
    assert.equal(canonicalHeaderValue([' x ', 'y  z']), 'x,y z');
  });
});

describe('SigV4 signing-key cache and error table', () => {
  it('derives the same key as the uncached chain and never holds more entries than its bound', () => {
    const cache = new SigningKeyCache(3);
    for (let i = 0; i < 10; i++) {
      const key = cache.get(`secret-${i}`, '20261127', 'us-east-1', 'ecr');
      assert.deepEqual(key, deriveSigningKey(`secret-${i}`, '20261127', 'us-east-1', 'ecr'));
    }
    assert.equal(cache.size, 3);
  });

  it('names every reason in both AWS protocols with a JSON *Exception name and a 4xx status', () => {
    const reasons: SigV4Reason[] = ['MissingAuthentication', 'IncompleteSignature', 'UnknownAccessKey', 'SignatureMismatch', 'RequestExpired', 'InvalidSecurityToken', 'ExpiredToken', 'WrongService', 'WrongRegion', 'MissingDate'];
    assert.deepEqual(Object.keys(sigV4ErrorNames).sort(), [...reasons].sort());
    for (const r of reasons) {
      const n = sigV4ErrorNames[r];
      assert.match(n.json, /Exception$/);
      assert.doesNotMatch(n.query, /Exception$/);
      assert.ok(n.jsonStatus >= 400 && n.jsonStatus < 500 && n.queryStatus >= 400 && n.queryStatus < 500);
      assert.equal(new SigV4Error(r).message, n.message);
    }
    assert.equal(sigV4ErrorNames.UnknownAccessKey.json, 'UnrecognizedClientException');
    assert.equal(sigV4ErrorNames.UnknownAccessKey.query, 'InvalidClientTokenId');
    assert.equal(sigV4ErrorNames.SignatureMismatch.query, 'SignatureDoesNotMatch');
  });
});
