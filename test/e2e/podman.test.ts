/**
 * podman against a real berth process: push from local storage, remove, pull back, same image.
 * podman runs with its own storage (--root/--runroot/--tmpdir under a temp dir, vfs driver), so the
 * machine's images and containers are never touched. It logs in with `podman login -u AWS
 * --password-stdin` (the token from ECR GetAuthorizationToken) into an auth file of its own, and
 * every registry command passes that file with --authfile; repositories are created with ECR
 * CreateRepository before anything is pushed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { after, before, describe, it, type TestContext } from 'node:test';
import { DOCKER_LIST, OCI_INDEX, OCI_MANIFEST, buildImageLayout, buildMultiArchLayout, sha256, type BuiltImage } from '../fixtures/oci-image.js';
import { BerthServer, describeRun, expectOk, run, toolSkipReason, type RunResult } from './harness.js';

const skip = await toolSkipReason('podman');

describe('podman e2e', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let image: BuiltImage;
  let storage: string;
  /** Set when podman itself cannot work here (not berth's fault): every test then skips with it. */
  let unusable: string | undefined;
  /** Set when loading the fixture into podman failed: the first test fails with it, the others skip. */
  let loadFailure: string | undefined;
  let imageId = '';
  /** podman's own auth file, written by `podman login`. */
  let authFile = '';

  /** podman on its isolated storage; `input` is written to its stdin. */
  const podmanWith = (input: string, ...args: string[]): Promise<RunResult> => run('podman', [
    '--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--tmpdir', join(storage, 'tmp'),
    '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args,
  ], { timeoutMs: 90_000, input });
  const podman = (...args: string[]): Promise<RunResult> => podmanWith('', ...args);
  const ok = async (...args: string[]): Promise<RunResult> => expectOk(await podman(...args), server);
  /** `podman <cmd> --authfile <podman's auth file> --tls-verify=false …` for commands that talk to berth. */
  const remote = (cmd: string[], ...args: string[]): Promise<RunResult> => ok(...cmd, '--authfile', authFile, '--tls-verify=false', ...args);
  const skipIfUnusable = (t: TestContext): boolean => {
    const reason = unusable ?? (loadFailure ? 'the fixture could not be loaded into podman (see the first test)' : undefined);
    if (reason) t.skip(reason);
    return reason !== undefined;
  };
  const lastLine = (s: string) => s.trim().split('\n').pop()!.trim();

  before(async () => {
    server = await BerthServer.start();
    // podman names an image pulled from oci:<dir> after <dir>, and names must be lowercase.
    storage = join(tmpdir(), `berth-e2e-podman-${randomBytes(6).toString('hex')}`);
    await mkdir(storage, { recursive: true });
    image = await buildImageLayout(join(storage, 'layout'), { layers: 2 });
    // A podman that cannot even report on its own isolated store is an environment problem, not berth's.
    const info = await podman('info', '--format', '{{.Store.GraphDriverName}}');
    if (info.code !== 0) {
      unusable = `podman cannot run in this environment: ${lastLine(info.stderr || info.stdout)}`;
      process.stderr.write(`# SKIP ${unusable}\n`);
      return;
    }
    const load = await podman('pull', `oci:${image.dir}:${image.refName}`);
    if (load.code !== 0) loadFailure = describeRun(load);
    else imageId = lastLine(load.stdout);
    authFile = join(storage, 'auth.json');
    for (const repo of ['pod/app', 'pod/multi', 'pod/zstd', 'pod/list']) await server.ensureRepository(repo);
  });

  after(async () => {
    if (storage) {
      // vfs layers are plain directories: remove them through podman first so nothing stays mounted.
      await podman('rmi', '-af').catch(() => undefined);
      await rm(storage, { recursive: true, force: true });
    }
    await server?.dispose();
  });

  it('loading the fixture gives podman an image whose id is the config digest', (t) => {
    if (unusable) return t.skip(unusable);
    assert.equal(loadFailure, undefined, `podman could not load the fixture layout:\n${loadFailure}`);
    assert.equal(`sha256:${imageId}`, image.config.digest);
  });

  it('podman login with AWS and the GetAuthorizationToken password succeeds; a wrong password is refused', async (t) => {
    if (unusable) return t.skip(unusable);
    const login = ['login', '--authfile', authFile, '--tls-verify=false', '-u', 'AWS', '--password-stdin', server.host];
    const bad = await podmanWith('not-a-registry-token', ...login);
    assert.notEqual(bad.code, 0, `login with a made-up password succeeded\n${describeRun(bad, server)}`);
    assert.match(bad.stderr, /unauthorized|authentication required|invalid username\/password/i, describeRun(bad, server));
    const r = expectOk(await podmanWith(server.password, ...login), server);
    assert.match(r.stdout, /Login Succeeded/i);
    const auths = (JSON.parse(await readFile(authFile, 'utf8')) as { auths: Record<string, { auth: string }> }).auths;
    assert.equal(Buffer.from(auths[server.host]?.auth ?? '', 'base64').toString('utf8'), `AWS:${server.password}`);
  });

  it('push to berth, rmi, pull back: same image id and the pushed manifest digest', async (t) => {
    if (skipIfUnusable(t)) return;
    const name = `${server.host}/pod/app:v1`;
    await ok('tag', imageId, name);
    const digestFile = join(storage, 'push.digest');
    await remote(['push'], '--digestfile', digestFile, name);
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    assert.match(pushed, /^sha256:[a-f0-9]{64}$/);

    // What berth stored under the tag is what podman says it pushed, and it names our config.
    const res = await server.fetch('/v2/pod/app/manifests/v1', { headers: { accept: `${OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json` } });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(sha256(body), pushed);
    const manifest = JSON.parse(body.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    assert.equal(manifest.config.digest, image.config.digest);
    assert.equal(manifest.layers.length, image.layers.length);
    for (const layer of manifest.layers) {
      const blob = await server.fetch(`/v2/pod/app/blobs/${layer.digest}`);
      assert.equal(blob.status, 200);
      assert.equal(sha256(Buffer.from(await blob.arrayBuffer())), layer.digest);
    }

    await ok('rmi', '-f', imageId);
    const gone = await podman('image', 'exists', name);
    assert.notEqual(gone.code, 0, `image still present after rmi\n${describeRun(gone)}`);

    await remote(['pull'], name);
    const [inspected] = JSON.parse((await ok('image', 'inspect', name)).stdout) as { Id: string; Digest: string; RepoDigests: string[]; Architecture: string }[];
    assert.ok(inspected);
    assert.equal(inspected.Id, imageId);
    assert.equal(inspected.Digest, pushed);
    assert.ok(inspected.RepoDigests.includes(`${server.host}/pod/app@${pushed}`), inspected.RepoDigests.join(', '));
    assert.equal(inspected.Architecture, 'amd64');
  });

  it('pull by digest resolves to the same image', async (t) => {
    if (skipIfUnusable(t)) return;
    const res = await server.fetch('/v2/pod/app/manifests/v1', { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
    const digest = res.headers.get('docker-content-digest');
    assert.ok(digest);
    await ok('rmi', '-af');
    await remote(['pull'], `${server.host}/pod/app@${digest}`);
    const [inspected] = JSON.parse((await ok('image', 'inspect', `${server.host}/pod/app@${digest}`)).stdout) as { Id: string }[];
    assert.equal(inspected?.Id, imageId);
  });

  it('pulling a multi-arch index picks the requested platform', async (t) => {
    if (skipIfUnusable(t)) return;
    const multi = await buildMultiArchLayout(join(server.workDir, 'src-multi'));
    const copy = await run('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${multi.dir}:${multi.refName}`, `docker://${server.host}/pod/multi:v1`], { timeoutMs: 60_000 });
    if (copy.code === 127 || /spawn failed/.test(copy.stderr)) return t.skip('skopeo is needed to push the index');
    expectOk(copy, server);
    const head = await server.fetch('/v2/pod/multi/manifests/v1', { method: 'HEAD', headers: { accept: OCI_INDEX } });
    assert.equal(head.headers.get('docker-content-digest'), multi.index.digest);
    for (const [i, arch] of ['amd64', 'arm64'].entries()) {
      await remote(['pull'], '--arch', arch, `${server.host}/pod/multi:v1`);
      const [inspected] = JSON.parse((await ok('image', 'inspect', `${server.host}/pod/multi:v1`)).stdout) as { Id: string; Architecture: string }[];
      assert.equal(inspected?.Architecture, arch);
      assert.equal(`sha256:${inspected?.Id}`, multi.images[i]!.config.digest);
    }
  });

  it('push --compression-format zstd stores tar+zstd layers and pulls back to the same image', async (t) => {
    if (skipIfUnusable(t)) return;
    await ok('rmi', '-af');
    // Fresh layers: podman 4.3 would otherwise reuse the gzip blobs it already pushed (no --force-compression).
    const fresh = await buildImageLayout(join(storage, 'zstd'), { layers: 2 });
    const id = lastLine((await ok('pull', `oci:${fresh.dir}:latest`)).stdout);
    const name = `${server.host}/pod/zstd:v1`;
    await remote(['push'], '--compression-format', 'zstd', id, name);
    const res = await server.fetch('/v2/pod/zstd/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    assert.equal(res.status, 200);
    const manifest = await res.json() as { layers: { mediaType: string; digest: string }[] };
    assert.ok(manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+zstd'), JSON.stringify(manifest.layers));
    await ok('rmi', '-af');
    await remote(['pull'], name);
    const [inspected] = JSON.parse((await ok('image', 'inspect', name)).stdout) as { Id: string }[];
    assert.equal(`sha256:${inspected?.Id}`, fresh.config.digest);
  });

  it('manifest push --format v2s2 stores a Docker manifest list; pull --arch picks each platform', async (t) => {
    if (skipIfUnusable(t)) return;
    await ok('rmi', '-af');
    const amd = await buildImageLayout(join(storage, 'list-amd64'), { architecture: 'amd64', layers: 1 });
    const arm = await buildImageLayout(join(storage, 'list-arm64'), { architecture: 'arm64', layers: 1 });
    const ids = [lastLine((await ok('pull', `oci:${amd.dir}:latest`)).stdout), lastLine((await ok('pull', `oci:${arm.dir}:latest`)).stdout)];
    const list = `${server.host}/pod/list:v1`;
    await ok('manifest', 'create', list);
    for (const id of ids) await ok('manifest', 'add', list, `containers-storage:${id}`);
    await remote(['manifest', 'push'], '--all', '--format', 'v2s2', list, `docker://${list}`);

    const res = await server.fetch('/v2/pod/list/manifests/v1', { headers: { accept: DOCKER_LIST } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), DOCKER_LIST);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get('docker-content-digest'), sha256(body));
    const parsed = JSON.parse(body.toString('utf8')) as { manifests: { digest: string; platform: { architecture: string } }[] };
    assert.deepEqual(parsed.manifests.map((m) => m.platform.architecture).sort(), ['amd64', 'arm64']);

    await ok('manifest', 'rm', list);
    await ok('rmi', '-af');
    for (const [i, arch] of ['amd64', 'arm64'].entries()) {
      await remote(['pull'], '--arch', arch, list);
      const [inspected] = JSON.parse((await ok('image', 'inspect', list)).stdout) as { Id: string; Architecture: string }[];
      assert.equal(inspected?.Architecture, arch);
      assert.equal(inspected?.Id, ids[i]);
    }
  });
});
