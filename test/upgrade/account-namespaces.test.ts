/**
 * Upgrade: a data directory written by release 34b59dd (one repository namespace shared by every
 * account; see test/fixtures/upgrade-34b59dd/make-fixture.ts.txt) opens with today's code, and
 * every image stays pullable at its own account's host, with its policies, while names become
 * per-account from then on.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';

const FIXTURE = new URL('../fixtures/upgrade-34b59dd/', import.meta.url).pathname;

interface Expected {
  accounts: { A: string; B: string };
  rootB: { accessKeyId: string; secretAccessKey: string };
  repos: Record<string, { account: string; tag: string; digest: string }>;
}

describe('upgrade from 34b59dd (one namespace, two accounts)', () => {
  let dir = '';
  let app: App;
  let port = 0;
  let expected: Expected;
  const auth: Record<string, string> = {};
  const ecr: Record<string, ECRClient> = {};

  const hostOf = (account: string) => (account === expected.accounts.A ? `127.0.0.1:${port}` : `${account}.localhost:${port}`);
  const get = (host: string, who: string, url: string, accept?: string) => app.server.inject({
    method: 'GET', url, headers: { host, authorization: auth[who]!, ...(accept ? { accept } : {}) },
  });

  before(async () => {
    expected = JSON.parse(await readFile(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
    dir = await mkdtemp(join(tmpdir(), 'berth-upgrade-'));
    await cp(join(FIXTURE, 'data-dir'), join(dir, 'data'), { recursive: true });
    const old = new Database(join(dir, 'data', 'meta.db'), { readonly: true });
    const applied = old.prepare('select name from kysely_migration order by name').all() as { name: string }[];
    old.close();
    assert.deepEqual(applied.map((r) => r.name), ['0001-initial', '0002-ecr', '0003-identity'], 'the fixture is a pre-0004 data directory');

    const config = validateConfig({ dataDir: join(dir, 'data'), accountId: expected.accounts.A, log: { level: 'silent' } });
    app = await createApp(config, { logger: pino({ level: 'silent' }), env: {} });
    await app.server.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.server.address() as AddressInfo).port;
    const credsText = await readFile(join(dir, 'data', 'credentials'), 'utf8');
    const rootA = {
      accessKeyId: /aws_access_key_id = (\S+)/.exec(credsText)![1]!,
      secretAccessKey: /aws_secret_access_key = (\S+)/.exec(credsText)![1]!,
    };
    for (const [who, keys] of [['A', rootA], ['B', expected.rootB]] as const) {
      ecr[who] = new ECRClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } });
      const out = await ecr[who].send(new GetAuthorizationTokenCommand({}));
      auth[who] = `Basic ${out.authorizationData![0]!.authorizationToken!}`;
    }
  });
  after(async () => {
    for (const c of Object.values(ecr)) c.destroy();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('migrates to names unique per account: the global UNIQUE(name) is gone, UNIQUE(account_id, name) is there', async () => {
    const db = new Database(join(dir, 'data', 'meta.db'), { readonly: true });
    try {
      const indexes = db.prepare("select name, [unique] from pragma_index_list('repositories')").all() as { name: string; unique: number }[];
      const columnsOf = (index: string) => (db.prepare('select name from pragma_index_info(?) order by seqno').all(index) as { name: string }[]).map((c) => c.name);
      const unique = indexes.filter((i) => i.unique === 1).map((i) => columnsOf(i.name));
      assert.deepEqual(unique, [['account_id', 'name']]);
      assert.equal((db.prepare('select count(*) as n from repositories').get() as { n: number }).n, 4);
      assert.deepEqual(db.prepare('pragma foreign_key_check').all(), []);
    } finally {
      db.close();
    }
  });

  it('every image pulls (manifest and every blob, digests intact) at its account host with its owner login', async () => {
    for (const [name, r] of Object.entries(expected.repos)) {
      const who = r.account === expected.accounts.A ? 'A' : 'B';
      const host = hostOf(r.account);
      const res = await get(host, who, `/v2/${name}/manifests/${r.tag}`, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(res.statusCode, 200, `${name} at ${host}: ${res.body}`);
      assert.equal(res.headers['docker-content-digest'], r.digest);
      const manifest = JSON.parse(res.body) as { config: { digest: string }; layers: { digest: string }[] };
      for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
        const blob = await get(host, who, `/v2/${name}/blobs/${d}`);
        assert.equal(blob.statusCode, 200, `${name} blob ${d}`);
        assert.equal(`sha256:${createHash('sha256').update(blob.rawPayload).digest('hex')}`, d);
      }
    }
  });

  it("each account's catalog lists only its own repositories; the other's names are unknown on its host", async () => {
    const catalogA = await get(hostOf(expected.accounts.A), 'A', '/v2/_catalog');
    const catalogB = await get(hostOf(expected.accounts.B), 'B', '/v2/_catalog');
    assert.deepEqual(catalogA.json(), { repositories: ['a-only', 'team/app'] });
    assert.deepEqual(catalogB.json(), { repositories: ['b-only', 'team/b-app'] });
    const misplaced = await get(hostOf(expected.accounts.A), 'B', '/v2/team/b-app/manifests/v1');
    assert.notEqual(misplaced.statusCode, 200);
    const unknown = await get(hostOf(expected.accounts.A), 'A', '/v2/team/b-app/manifests/v1');
    assert.equal(unknown.statusCode, 404);
    assert.equal((unknown.json() as { errors: { code: string }[] }).errors[0]!.code, 'NAME_UNKNOWN');
  });

  it("a cross-account grant made before the upgrade still works, and only for what it grants", async () => {
    const granted = await get(hostOf(expected.accounts.B), 'A', '/v2/team/b-app/manifests/v1', 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(granted.statusCode, 200, granted.body);
    assert.equal(granted.headers['docker-content-digest'], expected.repos['team/b-app']!.digest);
    const refused = await get(hostOf(expected.accounts.B), 'A', '/v2/b-only/manifests/latest');
    assert.equal(refused.statusCode, 403);
  });

  it("after the upgrade B can create a name A already uses, in B's own registry, and each describes only its own", async () => {
    const created = await ecr.B!.send(new CreateRepositoryCommand({ repositoryName: 'team/app' }));
    assert.equal(created.repository?.registryId, expected.accounts.B);
    assert.equal(created.repository?.repositoryUri, `${expected.accounts.B}.localhost:${port}/team/app`);
    const a = await ecr.A!.send(new DescribeRepositoriesCommand({}));
    const b = await ecr.B!.send(new DescribeRepositoriesCommand({}));
    assert.deepEqual(a.repositories?.map((r) => r.repositoryName), ['a-only', 'team/app']);
    assert.deepEqual(b.repositories?.map((r) => r.repositoryName), ['b-only', 'team/app', 'team/b-app']);
    const stillA = await get(hostOf(expected.accounts.A), 'A', '/v2/team/app/manifests/v1', 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(stillA.headers['docker-content-digest'], expected.repos['team/app']!.digest);
  });
});
