/**
 * Issue 12: repositoryUri, proxyEndpoint and presigned layer URLs name the scheme and host clients
 * reach — `publicUrl` when configured, else the request's own (X-Forwarded-Proto/Host only when
 * trustProxy is on). Real listener, real @aws-sdk/client-ecr.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';

const apps: { app: App; dir: string }[] = [];
after(async () => {
  for (const { app, dir } of apps) {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
});

async function start(extra: Record<string, unknown>, forwarded?: Record<string, string>): Promise<ECRClient> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-puburl-'));
  const app = await createApp(validateConfig({ dataDir: dir, log: { level: 'silent' }, ...extra }), { logger: pino({ level: 'silent' }), env: {} });
  apps.push({ app, dir });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const endpoint = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
  const ecr = new ECRClient({ endpoint, region: 'us-east-1', credentials: { ...app.rootCredentials }, maxAttempts: 1 });
  if (forwarded) {
    // Added after signing, as a proxy adds them: not part of the signature.
    ecr.middlewareStack.add((next) => async (args) => {
      const req = args.request as { headers: Record<string, string> };
      Object.assign(req.headers, forwarded);
      return next(args);
    }, { step: 'finalizeRequest', priority: 'low', name: 'forwardedHeaders' });
  }
  return ecr;
}

describe('the URL clients reach', () => {
  it('publicUrl names repositoryUri and proxyEndpoint', async () => {
    const ecr = await start({ publicUrl: 'https://registry.example.com' });
    const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'pub/app' }));
    assert.equal(created.repository?.repositoryUri, 'registry.example.com/pub/app');
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    assert.equal(token.authorizationData?.[0]?.proxyEndpoint, 'https://registry.example.com');
  });

  it('X-Forwarded-Proto/Host are believed only with trustProxy', async () => {
    const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'reg.example.net' };
    const trusting = await start({ trustProxy: true }, headers);
    const t = await trusting.send(new GetAuthorizationTokenCommand({}));
    assert.equal(t.authorizationData?.[0]?.proxyEndpoint, 'https://reg.example.net');
    const plain = await start({}, headers);
    const p = await plain.send(new GetAuthorizationTokenCommand({}));
    assert.match(p.authorizationData?.[0]?.proxyEndpoint ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
