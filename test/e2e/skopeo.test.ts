/**
 * skopeo against a real berth process: push, pull, inspect, list-tags, delete, multi-arch, Docker
 * schema 2, and registry-internal copies (cross-repository mount). skopeo logs in with the
 * `AWS:<token>` from ECR GetAuthorizationToken, through the auth file the harness writes
 * (REGISTRY_AUTH_FILE); repositories are created with ECR CreateRepository before anything is pushed.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, buildImageLayout, buildMultiArchLayout, readLayoutBlob, readLayoutIndex, sha256,
  type BuiltImage,
} from '../fixtures/oci-image.js';
import { BerthServer, describeRun, expectOk, run, toolSkipReason, type RunResult } from './harness.js';

const skip = await toolSkipReason('skopeo');

describe('skopeo e2e', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let image: BuiltImage;

  const skopeo = async (...args: string[]): Promise<RunResult> => run('skopeo', args, { timeoutMs: 60_000 });
  const ok = async (...args: string[]): Promise<RunResult> => expectOk(await skopeo(...args), server);
  const ref = (repo: string, tagOrDigest: string) => `docker://${server.host}/${repo}${tagOrDigest.includes(':') ? '@' : ':'}${tagOrDigest}`;
  const dir = (name: string) => join(server.workDir, name);

  /** Asserts that every layer, the config and the manifest of `img` sit byte-identical in the pulled layout. */
  async function assertLayoutHolds(pulled: string, img: BuiltImage): Promise<void> {
    for (const d of [img.manifest.digest, img.config.digest, ...img.layers.map((l) => l.digest)]) {
      const got = await readLayoutBlob(pulled, d);
      assert.equal(sha256(got), d, `blob ${d} pulled back with different bytes`);
      assert.ok(got.equals(await readLayoutBlob(img.dir, d)), `blob ${d} differs from the pushed one`);
    }
  }

  before(async () => {
    server = await BerthServer.start();
    image = await buildImageLayout(dir('src'), { layers: 3 });
    await server.ensureRepository('e2e/app');
    await ok('copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, ref('e2e/app', 'v1'));
  });

  after(async () => {
    await server?.dispose();
  });

  it('copy oci: → docker:// stores the manifest under its digest, byte-identical', async () => {
    const res = await server.fetch('/v2/e2e/app/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), image.manifest.digest);
    assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(image.manifestBytes));
  });

  it('copy docker:// → oci: pulls every layer back byte-identical (verified by digest)', async () => {
    const pulled = dir('pull-oci');
    await ok('copy', '--src-tls-verify=false', ref('e2e/app', 'v1'), `oci:${pulled}:v1`);
    const index = await readLayoutIndex(pulled);
    assert.equal(index.manifests[0]?.digest, image.manifest.digest);
    await assertLayoutHolds(pulled, image);
  });

  it('copy docker:// → dir: pulls layers whose bytes hash to their digests', async () => {
    const pulled = dir('pull-dir');
    await ok('copy', '--src-tls-verify=false', ref('e2e/app', 'v1'), `dir:${pulled}`);
    const manifest = await readFile(join(pulled, 'manifest.json'));
    assert.equal(sha256(manifest), image.manifest.digest);
    for (const layer of image.layers) {
      const got = await readFile(join(pulled, layer.digest.split(':')[1]!));
      assert.equal(sha256(got), layer.digest);
    }
  });

  it('inspect reports the pushed digest and layers; inspect --raw returns the exact manifest bytes', async () => {
    const info = JSON.parse((await ok('inspect', '--tls-verify=false', ref('e2e/app', 'v1'))).stdout) as { Digest: string; Layers: string[]; Architecture: string };
    assert.equal(info.Digest, image.manifest.digest);
    assert.deepEqual(info.Layers, image.layers.map((l) => l.digest));
    assert.equal(info.Architecture, 'amd64');
    const raw = await ok('inspect', '--raw', '--tls-verify=false', ref('e2e/app', 'v1'));
    assert.equal(sha256(Buffer.from(raw.stdout, 'utf8')), image.manifest.digest);
    const byDigest = await ok('inspect', '--raw', '--tls-verify=false', ref('e2e/app', image.manifest.digest));
    assert.equal(byDigest.stdout, raw.stdout);
  });

  it('list-tags lists every pushed tag', async () => {
    await ok('copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, ref('e2e/app', 'v2'));
    await ok('copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, ref('e2e/app', 'latest'));
    const out = JSON.parse((await ok('list-tags', '--tls-verify=false', `docker://${server.host}/e2e/app`)).stdout) as { Repository: string; Tags: string[] };
    assert.equal(out.Repository, `${server.host}/e2e/app`);
    assert.deepEqual([...out.Tags].sort(), ['latest', 'v1', 'v2']);
  });

  it('delete removes the manifest and its tags: a later pull fails with manifest unknown', async () => {
    const img = await buildImageLayout(dir('src-delete'), { layers: 1 });
    await server.ensureRepository('e2e/deleteme');
    await ok('copy', '--dest-tls-verify=false', `oci:${img.dir}:${img.refName}`, ref('e2e/deleteme', 'gone'));
    await ok('delete', '--tls-verify=false', ref('e2e/deleteme', 'gone'));
    const pull = await skopeo('copy', '--src-tls-verify=false', ref('e2e/deleteme', 'gone'), `oci:${dir('pull-deleted')}:x`);
    assert.notEqual(pull.code, 0, `pull after delete should fail\n${describeRun(pull, server)}`);
    assert.match(pull.stderr, /manifest unknown/i);
    const byDigest = await server.fetch(`/v2/e2e/deleteme/manifests/${img.manifest.digest}`, { headers: { accept: OCI_MANIFEST } });
    assert.equal(byDigest.status, 404);
    await byDigest.arrayBuffer();
  });

  it('copy --all pushes a multi-arch index with both child manifests and pulls it back with --all', async () => {
    const multi = await buildMultiArchLayout(dir('src-multi'));
    await server.ensureRepository('e2e/multi');
    await ok('copy', '--all', '--dest-tls-verify=false', `oci:${multi.dir}:${multi.refName}`, ref('e2e/multi', 'v1'));

    const raw = await ok('inspect', '--raw', '--tls-verify=false', ref('e2e/multi', 'v1'));
    assert.equal(sha256(Buffer.from(raw.stdout, 'utf8')), multi.index.digest);
    for (const img of multi.images) {
      const res = await server.fetch(`/v2/e2e/multi/manifests/${img.manifest.digest}`, { headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
      assert.equal(res.status, 200, `child manifest for ${img.platform.architecture} missing`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(img.manifestBytes));
    }
    // inspect resolves the index to the platform asked for (Digest stays the index's own).
    const arm = JSON.parse((await ok('inspect', '--override-arch', 'arm64', '--tls-verify=false', ref('e2e/multi', 'v1'))).stdout) as { Digest: string; Architecture: string; Layers: string[] };
    assert.equal(arm.Digest, multi.index.digest);
    assert.equal(arm.Architecture, 'arm64');
    assert.deepEqual(arm.Layers, multi.images[1]!.layers.map((l) => l.digest));

    const pulled = dir('pull-multi');
    await ok('copy', '--all', '--src-tls-verify=false', ref('e2e/multi', 'v1'), `oci:${pulled}:v1`);
    assert.equal((await readLayoutIndex(pulled)).manifests[0]?.digest, multi.index.digest);
    assert.ok((await readLayoutBlob(pulled, multi.index.digest)).equals(multi.indexBytes));
    for (const img of multi.images) await assertLayoutHolds(pulled, img);
  });

  it('copy --format v2s2 stores a Docker schema 2 manifest served as application/vnd.docker.distribution.manifest.v2+json', async () => {
    await server.ensureRepository('e2e/docker');
    await ok('copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, ref('e2e/docker', 'v1'));
    const res = await server.fetch('/v2/e2e/docker/manifests/v1', { headers: { accept: DOCKER_MANIFEST } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), DOCKER_MANIFEST);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get('docker-content-digest'), sha256(body));
    const manifest = JSON.parse(body.toString('utf8')) as { mediaType: string; config: { digest: string }; layers: { digest: string; mediaType: string }[] };
    assert.equal(manifest.mediaType, DOCKER_MANIFEST);
    assert.equal(manifest.config.digest, image.config.digest);
    assert.deepEqual(manifest.layers.map((l) => l.digest), image.layers.map((l) => l.digest));
    assert.ok(manifest.layers.every((l) => l.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip'));

    const pulled = dir('pull-v2s2');
    await ok('copy', '--src-tls-verify=false', ref('e2e/docker', 'v1'), `dir:${pulled}`);
    assert.equal(sha256(await readFile(join(pulled, 'manifest.json'))), sha256(body));
  });

  it('copy between two berth repositories succeeds through cross-repository mounts (every layer mounted with 201, none re-uploaded)', async () => {
    // A mount is `POST …/blobs/uploads/?mount=…&from=…` answered 201; an ordinary upload is a POST
    // answered 202 followed by PATCH and PUT. The access log leaves query strings out (and is
    // buffered), so the evidence is the request counters around the copy.
    const counters = async () => ({
      mounted: await server.metric('berth_http_requests_total', { route: 'uploads', method: 'POST', status: '201' }),
      patched: await server.metric('berth_http_requests_total', { route: 'uploads', method: 'PATCH' }),
    });
    await server.ensureRepository('e2e/copy-target');
    const before = await counters();
    await ok('copy', '--src-tls-verify=false', '--dest-tls-verify=false', ref('e2e/app', 'v1'), ref('e2e/copy-target', 'v1'));
    const afterCopy = await counters();

    const info = JSON.parse((await ok('inspect', '--tls-verify=false', ref('e2e/copy-target', 'v1'))).stdout) as { Digest: string };
    assert.equal(info.Digest, image.manifest.digest);
    const pulled = dir('pull-copy');
    await ok('copy', '--src-tls-verify=false', ref('e2e/copy-target', 'v1'), `oci:${pulled}:v1`);
    await assertLayoutHolds(pulled, image);

    // skopeo mounts when its blob-info cache knows another repository of this registry holds the
    // layer (it recorded that while reading e2e/app); the config may still be uploaded normally.
    assert.ok(afterCopy.mounted - before.mounted >= image.layers.length,
      `expected ${image.layers.length} mounts (POST answered 201), saw ${afterCopy.mounted - before.mounted}`);
    assert.ok(afterCopy.patched - before.patched <= 1, `layers were re-uploaded instead of mounted: ${afterCopy.patched - before.patched} PATCHes`);
  });

  it('an anonymous pull is refused with an authentication error (no credentials, and an empty auth file)', async () => {
    const noCreds = await skopeo('inspect', '--no-creds', '--tls-verify=false', ref('e2e/app', 'v1'));
    assert.notEqual(noCreds.code, 0, `an anonymous inspect succeeded\n${describeRun(noCreds, server)}`);
    assert.match(noCreds.stderr, /authentication required|unauthorized/i, describeRun(noCreds, server));

    const emptyAuth = dir('empty-auth.json');
    await writeFile(emptyAuth, '{"auths":{}}\n');
    const copy = await skopeo('copy', '--src-tls-verify=false', '--src-authfile', emptyAuth, ref('e2e/app', 'v1'), `oci:${dir('pull-anonymous')}:v1`);
    assert.notEqual(copy.code, 0, `an anonymous copy succeeded\n${describeRun(copy, server)}`);
    assert.match(copy.stderr, /authentication required|unauthorized/i, describeRun(copy, server));

    // The registry itself answers 401 with the Docker token flow's challenge (ECR Public's), naming the scope.
    const res = await server.fetch('/v2/e2e/app/manifests/v1', { anonymous: true, headers: { accept: OCI_MANIFEST } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${server.url}/token",service="${server.host}",scope="repository:e2e/app:pull"`);
    await res.arrayBuffer();
  });

  it('a push to a repository that was never created fails with name unknown', async () => {
    const push = await skopeo('copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, ref('e2e/never-created', 'v1'));
    assert.notEqual(push.code, 0, `a push to a repository never created succeeded\n${describeRun(push, server)}`);
    assert.match(push.stderr, /name unknown/i, describeRun(push, server));
    const res = await server.fetch('/v2/_catalog');
    assert.equal(res.status, 200);
    const body = await res.json() as { repositories: string[] };
    assert.ok(!body.repositories.includes('e2e/never-created'), 'the refused push created the repository');
  });

  it('the catalog lists every repository created through the ECR API that skopeo pushed to', async () => {
    const res = await server.fetch('/v2/_catalog');
    assert.equal(res.status, 200);
    const body = await res.json() as { repositories: string[] };
    // Exactly the repositories CreateRepository made: a push never creates one.
    assert.deepEqual([...body.repositories].sort(), ['e2e/app', 'e2e/copy-target', 'e2e/deleteme', 'e2e/docker', 'e2e/multi']);
  });
});
