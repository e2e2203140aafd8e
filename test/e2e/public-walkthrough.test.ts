/**
 * The seed's public walk-through with real clients: create a public repository with catalog data
 * (`aws ecr-public create-repository`), `aws ecr-public get-login-password | podman login`, push
 * with podman, then pull with no login at all — podman, skopeo and the docker CLI (through
 * `podman system service`) — via the Docker token flow (`/token`). An anonymous push is refused,
 * nothing private is visible anonymously, and anonymous pulls are rate-limited (429 + Retry-After)
 * while a logged-in caller still pulls.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { buildImageLayout, type BuiltImage } from '../fixtures/oci-image.js';
import { Podman, awsCli, awsJson, basicAuth } from './aws-helpers.js';
import { BerthServer, describeRun, expectOk, run, toolSkipReason } from './harness.js';

const awsSkip = await toolSkipReason('aws');
const ALIAS = 'demo';
/** Small enough that the rate-limit test exhausts it quickly, large enough for the pulls before it. */
const BURST = 40;

describe('public walk-through: create, log in, push, pull anonymously', { timeout: 600_000, skip: awsSkip ?? false }, () => {
  let server: BerthServer;
  let pusher: Podman | undefined;
  let anon: Podman | undefined;
  let unusable: string | undefined;
  let image: BuiltImage;
  let imageId = '';
  const ref = () => `${server.host}/${ALIAS}/web:v1`;
  const skipIf = (t: TestContext): boolean => {
    if (unusable) t.skip(unusable);
    return unusable !== undefined;
  };

  before(async () => {
    server = await BerthServer.start({ env: { BERTH_PUBLIC_ALIAS: ALIAS, BERTH_ANONYMOUS_PULL_BURST: String(BURST), BERTH_ANONYMOUS_PULLS_PER_SECOND: '0.2' } });
    const p = await Podman.create([server.host, `localhost:${server.port}`]);
    if (typeof p === 'string') {
      unusable = p;
      return;
    }
    pusher = p;
    const q = await Podman.create([server.host, `localhost:${server.port}`]);
    anon = typeof q === 'string' ? undefined : q;
    image = await buildImageLayout(join(pusher.dir, 'layout'), { layers: 2 });
    imageId = await pusher.load(image, server);
  });
  after(async () => {
    await pusher?.dispose();
    await anon?.dispose();
    await server?.dispose();
  });

  it('aws ecr-public create-repository with catalog data answers the <host>/<alias>/<name> URI', async () => {
    const out = await awsJson<{ repository: { repositoryUri: string; repositoryName: string }; catalogData: { description: string; architectures: string[] } }>(server, [
      'ecr-public', 'create-repository', '--region', 'us-east-1', '--repository-name', 'web',
      '--catalog-data', JSON.stringify({ description: 'A tiny web server', aboutText: '# web\nServes files.', usageText: 'podman run web', architectures: ['x86-64'], operatingSystems: ['Linux'] }),
    ]);
    assert.equal(out.repository.repositoryUri, `${server.host}/${ALIAS}/web`);
    assert.equal(out.repository.repositoryName, 'web');
    assert.equal(out.catalogData.description, 'A tiny web server');
    assert.deepEqual(out.catalogData.architectures, ['x86-64']);
  });

  it('aws ecr-public get-login-password | podman login, then podman push', async (t) => {
    if (skipIf(t)) return;
    const pw = expectOk(await awsCli(server, ['ecr-public', 'get-login-password', '--region', 'us-east-1']), server);
    const authFile = join(pusher!.dir, 'login.json');
    expectOk(await pusher!.run(['login', '--authfile', authFile, '--tls-verify=false', '--username', 'AWS', '--password-stdin', server.host], { input: pw.stdout }), server);
    expectOk(await pusher!.run(['tag', imageId, ref()]), server);
    expectOk(await pusher!.run(['push', '--authfile', authFile, '--tls-verify=false', ref()]), server);
  });

  it('podman pulls the public image with no login', async (t) => {
    if (skipIf(t) || !anon) return;
    const r = expectOk(await anon.run(['pull', '--tls-verify=false', ref()]), server);
    assert.match(r.stdout, new RegExp(imageId.slice(0, 12)));
  });

  it('skopeo copies the public image with --src-no-creds', async (t) => {
    if (skipIf(t)) return;
    const dest = join(pusher!.dir, 'skopeo-out');
    expectOk(await run('skopeo', ['copy', '--src-no-creds', '--src-tls-verify=false', `docker://${ref()}`, `oci:${dest}:v1`], { timeoutMs: 120_000 }), server);
  });

  it('the docker CLI pulls the public image through podman system service with an empty docker config', async (t) => {
    if (skipIf(t) || !anon) return;
    const dockerSkip = await toolSkipReason('docker');
    if (dockerSkip) return void t.skip(dockerSkip);
    let host: string;
    try {
      host = await anon.startDockerService();
    } catch (err) {
      return void t.skip(`podman system service cannot serve the docker CLI here: ${(err as Error).message}`);
    }
    const env = { DOCKER_HOST: host, DOCKER_CONFIG: join(anon.dir, 'docker-config-empty') };
    const name = `localhost:${server.port}/${ALIAS}/web:v1`;
    const r = expectOk(await run('docker', ['pull', name], { env, timeoutMs: 120_000 }), server);
    assert.match(r.stdout, /Downloaded newer image|Image is up to date|Pulling from|v1/, describeRun(r, server));
  });

  it('an anonymous push is refused, to the public repository and to a new name under the alias', async (t) => {
    if (skipIf(t)) return;
    for (const target of [`docker://${server.host}/${ALIAS}/web:anon`, `docker://${server.host}/${ALIAS}/other:anon`]) {
      const r = await run('skopeo', ['copy', '--dest-no-creds', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, target], { timeoutMs: 120_000 });
      assert.notEqual(r.code, 0, describeRun(r, server));
      assert.match(r.stderr, /unauthorized|authentication required/i, describeRun(r, server));
    }
  });

  it('nothing private is visible anonymously: pulls, tags, _catalog, referrers, /token grants', async (t) => {
    if (skipIf(t)) return;
    await server.ensureRepository('team/secret');
    expectOk(await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, `docker://${server.host}/team/secret:v1`], { timeoutMs: 120_000 }), server);
    const r = await run('skopeo', ['inspect', '--no-creds', '--tls-verify=false', `docker://${server.host}/team/secret:v1`]);
    assert.notEqual(r.code, 0, describeRun(r, server));
    const tokenRes = await fetch(`${server.url}/token?scope=repository:team/secret:pull&scope=repository:${ALIAS}/web:pull`);
    const { token } = await tokenRes.json() as { token: string };
    const bearer = { authorization: `Bearer ${token}` };
    for (const path of ['/v2/team/secret/tags/list', '/v2/team/secret/manifests/v1', `/v2/team/secret/referrers/sha256:${'0'.repeat(64)}`, '/v2/_catalog', '/v2/team/missing/tags/list']) {
      const res = await server.fetch(path, { headers: bearer });
      assert.equal(res.status, 401, `${path} answered ${res.status}`);
      const body = await res.text();
      assert.doesNotMatch(body, /secret:v1|"tags"/, path);
    }
    const ping = await server.fetch('/v2/', { headers: bearer });
    assert.equal(ping.status, 200, 'the token flow\'s ping with an anonymous token');
    await ping.arrayBuffer();
    const tags = await server.fetch(`/v2/${ALIAS}/web/tags/list`, { headers: bearer });
    assert.equal(tags.status, 200);
    assert.deepEqual((await tags.json() as { tags: string[] }).tags, ['v1']);
  });

  it('logged-in clients get their login back as the bearer token; a wrong password gets 401 from /token', async () => {
    const ok = await fetch(`${server.url}/token?scope=repository:team/secret:pull`, { headers: { authorization: basicAuth(server.password) } });
    assert.equal(ok.status, 200);
    const { token } = await ok.json() as { token: string };
    assert.equal((await server.fetch('/v2/team/secret/tags/list', { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const bad = await fetch(`${server.url}/token`, { headers: { authorization: basicAuth('b1.forged.token') } });
    assert.equal(bad.status, 401);
  });

  it('anonymous manifest pulls beyond the burst answer 429 TOOMANYREQUESTS with Retry-After; a logged-in pull still works', async () => {
    const { token } = await (await fetch(`${server.url}/token?scope=repository:${ALIAS}/web:pull`)).json() as { token: string };
    const headers = { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' };
    let limited: Response | undefined;
    for (let i = 0; i < BURST + 5 && !limited; i++) {
      const res = await server.fetch(`/v2/${ALIAS}/web/manifests/v1`, { headers });
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 200);
      if (res !== limited) await res.arrayBuffer();
    }
    assert.ok(limited, `no 429 within ${BURST + 5} anonymous pulls`);
    assert.equal(((await limited.json()) as { errors: { code: string }[] }).errors[0]?.code, 'TOOMANYREQUESTS');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const authed = await server.fetch(`/v2/${ALIAS}/web/manifests/v1`, { headers: { accept: headers.accept } });
    assert.equal(authed.status, 200);
  });
});
