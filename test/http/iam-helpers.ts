import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';

export const ACCOUNT = '123456789012';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface IamHarness {
  app: App;
  endpoint: string;
  root: { iam: IAMClient; sts: STSClient };
  clients(creds: Creds): { iam: IAMClient; sts: STSClient };
}

/**
 * A real berth (SQLite + files in a temp dir, IAM enforced) listening on a random port, and real
 * AWS SDK clients for it. Set up before the file's tests, torn down after.
 */
export function iamHarness(): IamHarness {
  const h = {} as IamHarness;
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-iam-'));
    const config = validateConfig({ dataDir: dir, accountId: ACCOUNT, log: { level: 'silent' } });
    h.app = await createApp(config, { logger: pino({ level: 'silent' }), env: {} });
    await h.app.server.listen({ port: 0, host: '127.0.0.1' });
    h.endpoint = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
    h.clients = (creds) => {
      const common = { endpoint: h.endpoint, region: 'us-east-1', credentials: { ...creds }, maxAttempts: 1 };
      return { iam: new IAMClient(common), sts: new STSClient(common) };
    };
    h.root = h.clients(h.app.rootCredentials);
  });
  after(async () => {
    h.root?.iam.destroy();
    h.root?.sts.destroy();
    await h.app?.close();
    await rm(dir, { recursive: true, force: true });
  });
  return h;
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

export const allow = (...actions: string[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });
