/**
 * Helpers for the suites where each account is its own registry on its own host
 * (`<account>.localhost:<port>`): adding accounts with `berth account create`, and raw `/v2`
 * requests that name an account host in `Host` while connecting to the loopback listener.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import type { AwsKeys } from './aws-helpers.js';
import { BERTH_ARGS, expectOk, run, type BerthServer } from './harness.js';

/** `berth account create` on the server's data dir; resolves with the new root key and its credentials file. */
export async function createAccount(server: BerthServer, accountId: string): Promise<{ keys: AwsKeys; credentialsFile: string }> {
  expectOk(await run(process.execPath, [...BERTH_ARGS, 'account', 'create', '--account-id', accountId, '--data-dir', server.dataDir]), server);
  const credentialsFile = join(server.dataDir, `credentials-${accountId}`);
  const text = await readFile(credentialsFile, 'utf8');
  const field = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '';
  return { keys: { accessKeyId: field('aws_access_key_id'), secretAccessKey: field('aws_secret_access_key') }, credentialsFile };
}

/** `host:port` of an account's registry on this server (the default account: the bare host). */
export const accountHost = (server: BerthServer, accountId: string): string => `${accountId}.localhost:${server.port}`;

export interface HostResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = unknown>(): T;
}

/** A request to the listener with `Host: <host>` (an account host) — what a client resolving it would send. */
export function hostRequest(server: BerthServer, host: string, method: string, path: string, headers: Record<string, string> = {}): Promise<HostResponse> {
  return new Promise((done, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: { ...headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        done({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body.toString('utf8')) as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET of a full URL (e.g. a presigned download URL naming an account host), sent to the listener. */
export function getUrl(server: BerthServer, url: string, headers: Record<string, string> = {}): Promise<HostResponse> {
  const u = new URL(url);
  return hostRequest(server, u.host, 'GET', `${u.pathname}${u.search}`, headers);
}
