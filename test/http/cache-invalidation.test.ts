/**
 * Two berth apps ("nodes") on one data directory: a change made through one drops the other's
 * caches at once when they share a change feed (issue 11), and — the control that shows the caches
 * are real — only after the TTL when they do not.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand, UpdateImageStorageClassCommand } from '@aws-sdk/client-ecr';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { LocalChangeFeed } from '../../src/core/local-change-feed.js';

const ACCOUNT = '123456789012';
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function twoNodes(shareFeed: boolean): Promise<{ a: App; b: App; endpoint: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-feed-'));
  const config = validateConfig({ dataDir: dir, accountId: ACCOUNT, log: { level: 'silent' } });
  const feed = shareFeed ? new LocalChangeFeed() : undefined;
  const open = () => createApp(config, { logger: pino({ level: 'silent' }), env: {}, ...(feed ? { changeFeed: feed } : {}) });
  const a = await open();
  const b = await open();
  cleanups.push(async () => {
    await a.close();
    await b.close();
    await feed?.close();
    await rm(dir, { recursive: true, force: true });
  });
  await a.server.listen({ port: 0, host: '127.0.0.1' });
  return { a, b, endpoint: `http://127.0.0.1:${(a.server.server.address() as AddressInfo).port}` };
}

const client = <T>(Ctor: new (c: object) => T, endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): T => {
  const c = new Ctor({ endpoint, region: 'us-east-1', credentials: { ...credentials }, maxAttempts: 1 });
  cleanups.push(async () => (c as { destroy(): void }).destroy());
  return c;
};

async function basicAuth(endpoint: string, creds: { accessKeyId: string; secretAccessKey: string }): Promise<string> {
  const t = await client(ECRClient, endpoint, creds).send(new GetAuthorizationTokenCommand({}));
  return `Basic ${t.authorizationData![0]!.authorizationToken!}`;
}

async function pushManifest(server: FastifyInstance, auth: string): Promise<string> {
  const put = async (data: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const r = await server.inject({ method: 'POST', url: `/v2/app/blobs/uploads/?digest=${digest}`, payload: data, headers: { authorization: auth, 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
    return { digest, size: data.length };
  };
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' })));
  const layer = await put(randomBytes(512));
  const body = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  }));
  const r = await server.inject({ method: 'PUT', url: '/v2/app/manifests/v1', payload: body, headers: { authorization: auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(r.statusCode, 201, r.body);
  return r.headers['docker-content-digest'] as string;
}

async function deleteThenReadElsewhere(shareFeed: boolean): Promise<number> {
  const { a, b, endpoint } = await twoNodes(shareFeed);
  await client(ECRClient, endpoint, a.rootCredentials).send(new CreateRepositoryCommand({ repositoryName: 'app' }));
  const auth = await basicAuth(endpoint, a.rootCredentials);
  const digest = await pushManifest(a.server, auth);
  const url = `/v2/app/manifests/${digest}`;
  assert.equal((await b.server.inject({ method: 'GET', url, headers: { authorization: auth } })).statusCode, 200, 'node B read (and cached) it');
  assert.equal((await a.server.inject({ method: 'DELETE', url, headers: { authorization: auth } })).statusCode, 202);
  return (await b.server.inject({ method: 'GET', url, headers: { authorization: auth } })).statusCode;
}

async function deactivateThenUseElsewhere(shareFeed: boolean): Promise<number> {
  const { a, b, endpoint } = await twoNodes(shareFeed);
  const iam = client(IAMClient, endpoint, a.rootCredentials);
  await iam.send(new CreateUserCommand({ UserName: 'ci' }));
  await iam.send(new AttachUserPolicyCommand({ UserName: 'ci', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly' }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'ci' }))).AccessKey!;
  const auth = await basicAuth(endpoint, { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
  assert.equal((await b.server.inject({ method: 'GET', url: '/v2/', headers: { authorization: auth } })).statusCode, 200, 'node B accepted (and cached) the token');
  await iam.send(new UpdateAccessKeyCommand({ UserName: 'ci', AccessKeyId: key.AccessKeyId!, Status: 'Inactive' }));
  return (await b.server.inject({ method: 'GET', url: '/v2/', headers: { authorization: auth } })).statusCode;
}

async function archiveThenPullElsewhere(shareFeed: boolean): Promise<number> {
  const { a, b, endpoint } = await twoNodes(shareFeed);
  const ecr = client(ECRClient, endpoint, a.rootCredentials);
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
  const auth = await basicAuth(endpoint, a.rootCredentials);
  const digest = await pushManifest(a.server, auth);
  const url = `/v2/app/manifests/${digest}`;
  assert.equal((await b.server.inject({ method: 'GET', url, headers: { authorization: auth } })).statusCode, 200, 'node B pulled it (and cached that nothing is archived)');
  await ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'app', imageId: { imageDigest: digest }, targetStorageClass: 'ARCHIVE' }));
  return (await b.server.inject({ method: 'GET', url, headers: { authorization: auth } })).statusCode;
}

describe('cross-node cache invalidation through the change feed', () => {
  it('an image archived through one node is refused by the other at once', async () => {
    assert.notEqual(await archiveThenPullElsewhere(true), 200);
  });

  it('control: without a shared feed the other node still serves the archived image until the TTL', async () => {
    assert.equal(await archiveThenPullElsewhere(false), 200);
  });

  it('a manifest deleted through one node is gone on the other at once', async () => {
    assert.equal(await deleteThenReadElsewhere(true), 404);
  });

  it('control: without a shared feed the other node serves its cached copy until the TTL', async () => {
    assert.equal(await deleteThenReadElsewhere(false), 200);
  });

  it('a registry token whose key was deactivated through one node is refused by the other at once', async () => {
    assert.equal(await deactivateThenUseElsewhere(true), 401);
  });

  it('control: without a shared feed the other node still accepts the cached token until the TTL', async () => {
    assert.equal(await deactivateThenUseElsewhere(false), 200);
  });
});
