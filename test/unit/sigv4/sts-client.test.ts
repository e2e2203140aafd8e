import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SigV4Error, sigV4ErrorNames, verifySigV4, type SigningKeyRecord } from '../../../src/auth/sigv4/index.js';
import { LONG_TERM, SESSION } from './helpers.js';

// A real @aws-sdk/client-sts talking over HTTP to a tiny node:http server that authenticates with verifySigV4
// and answers in the Query protocol's XML, so the SDK's own signing, transport and error parsing are exercised.
const records: Record<string, SigningKeyRecord<string>> = {
  [LONG_TERM.accessKeyId]: { secretAccessKey: LONG_TERM.secretAccessKey, principal: 'arn:aws:iam::123456789012:user/alice' },
  [SESSION.accessKeyId]: { secretAccessKey: SESSION.secretAccessKey, sessionToken: SESSION.sessionToken!, expiresAt: new Date(Date.now() + 3600_000), principal: 'arn:aws:sts::123456789012:assumed-role/builder/s' },
  ASIAEXPIREDSESSION00: { secretAccessKey: 'expired-secret', sessionToken: 'expired-token', expiresAt: new Date(Date.now() - 1000), principal: 'x' },
};

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  res.setHeader('content-type', 'text/xml');
  res.setHeader('x-amzn-RequestId', 'req-1');
  try {
    const ok = await verifySigV4(
      {
        method: req.method ?? 'GET', rawPath: q < 0 ? url : url.slice(0, q), rawQuery: q < 0 ? '' : url.slice(q + 1),
        headers: req.headers, bodySha256: createHash('sha256').update(body).digest('hex'),
      },
      { lookup: async (id) => records[id], now: new Date(), region: 'us-east-1', services: ['sts'] },
    );
    res.end(`<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult><Arn>${xml(ok.principal ?? '')}</Arn>` +
      `<UserId>${ok.accessKeyId}</UserId><Account>123456789012</Account></GetCallerIdentityResult>` +
      '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>');
  } catch (e) {
    if (!(e instanceof SigV4Error)) throw e;
    const name = sigV4ErrorNames[e.reason];
    res.statusCode = name.queryStatus;
    res.end(`<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${name.query}</Code><Message>${xml(e.message)}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`);
  }
}

describe('SigV4 verification against the real AWS SDK STS client over HTTP', () => {
  let server: Server;
  let endpoint = '';
  before(async () => {
    server = createServer((req, res) => void handle(req, res).catch(() => res.writeHead(500).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region = 'us-east-1') =>
    new STSClient({ endpoint, region, credentials, maxAttempts: 1 });

  async function failure(c: STSClient): Promise<{ name: string; status: number | undefined; message: string }> {
    try {
      await c.send(new GetCallerIdentityCommand({}));
    } catch (e) {
      const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
      return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
    }
    assert.fail('the call should have failed');
  }

  it('GetCallerIdentity succeeds with a long-term key and with session credentials', async () => {
    const out = await client(LONG_TERM).send(new GetCallerIdentityCommand({}));
    assert.deepEqual([out.Arn, out.UserId, out.Account], ['arn:aws:iam::123456789012:user/alice', LONG_TERM.accessKeyId, '123456789012']);
    const session = await client(SESSION).send(new GetCallerIdentityCommand({}));
    assert.equal(session.Arn, 'arn:aws:sts::123456789012:assumed-role/builder/s');
  });

  it('the SDK sees InvalidClientTokenId (403) for an unknown key', async () => {
    assert.deepEqual(await failure(client({ accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: 'x' })),
      { name: 'InvalidClientTokenId', status: 403, message: 'The security token included in the request is invalid.' });
  });

  it('the SDK sees SignatureDoesNotMatch (403) for a wrong secret and for a wrong region', async () => {
    const wrongSecret = await failure(client({ ...LONG_TERM, secretAccessKey: 'wrong' }));
    assert.deepEqual([wrongSecret.name, wrongSecret.status], ['SignatureDoesNotMatch', 403]);
    const wrongRegion = await failure(client(LONG_TERM, 'eu-central-1'));
    assert.deepEqual([wrongRegion.name, wrongRegion.message], ['SignatureDoesNotMatch', "Credential should be scoped to a valid region, not 'eu-central-1'. "]);
  });

  it('the SDK sees InvalidClientTokenId without the session token and ExpiredToken for an expired session', async () => {
    assert.equal((await failure(client({ accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey }))).name, 'InvalidClientTokenId');
    const expired = await failure(client({ accessKeyId: 'ASIAEXPIREDSESSION00', secretAccessKey: 'expired-secret', sessionToken: 'expired-token' }));
    assert.deepEqual([expired.name, expired.status], ['ExpiredToken', 403]);
  });
});
