/**
 * Crash safety: concurrent pushers, `kill -9` mid-way, restart on the same data dir. Whatever berth
 * acknowledged (201) must come back byte-identical; whatever it did not acknowledge must be either
 * invisible or complete — never half-written — and `berth fsck` must find the data dir consistent.
 *
 * Every request carries the `AWS:<token>` login taken once, before the first crash: registry
 * tokens are stateless and MAC-protected, so the same token must keep working across restarts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, describe, it } from 'node:test';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, sha256 } from '../fixtures/oci-image.js';
import { BERTH_ARGS, BerthServer, describeRun, run, sleep } from './harness.js';

const PUSHERS = 8;
const ROUNDS = 3;

interface Pushed {
  repo: string;
  digest: string;
  bytes: Buffer;
}
interface PushedManifest extends Pushed {
  tag: string;
}

/** Everything tried and everything acknowledged, across all rounds. */
class Ledger {
  readonly attemptedBlobs: Pushed[] = [];
  readonly ackedBlobs: Pushed[] = [];
  readonly attemptedManifests: PushedManifest[] = [];
  readonly ackedManifests: PushedManifest[] = [];
}

class PushError extends Error {}

async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  if (res.status !== status) throw new PushError(`${what}: expected ${status}, got ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

/** Chunked upload: POST, several PATCHes with Content-Range, PUT ?digest=. Resolves once acknowledged. */
async function pushBlob(base: string, auth: string, repo: string, bytes: Buffer, ledger: Ledger): Promise<string> {
  const digest = sha256(bytes);
  ledger.attemptedBlobs.push({ repo, digest, bytes });
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { authorization: auth } });
  await expectStatus(start, 202, 'POST upload');
  let location = start.headers.get('location')!;
  for (let offset = 0; offset < bytes.length;) {
    const end = Math.min(bytes.length, offset + 32 * 1024 + Math.floor(Math.random() * 192 * 1024));
    const res = await fetch(new URL(location, base), {
      method: 'PATCH',
      headers: { authorization: auth, 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end - 1}` },
      body: bytes.subarray(offset, end),
    });
    await expectStatus(res, 202, 'PATCH chunk');
    location = res.headers.get('location')!;
    offset = end;
  }
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  const done = await fetch(url, { method: 'PUT', headers: { authorization: auth } });
  await expectStatus(done, 201, 'PUT complete');
  assert.equal(done.headers.get('docker-content-digest'), digest);
  ledger.ackedBlobs.push({ repo, digest, bytes });
  return digest;
}

/** One pusher: images of 2 layers + config + manifest, until the server goes away or `stop` is set. */
async function pusher(base: string, auth: string, repo: string, round: number, ledger: Ledger, stop: { now: boolean }): Promise<void> {
  for (let n = 0; !stop.now; n++) {
    try {
      const layers: { digest: string; size: number }[] = [];
      for (let i = 0; i < 2; i++) {
        const bytes = randomBytes(16 * 1024 + Math.floor(Math.random() * 768 * 1024));
        layers.push({ digest: await pushBlob(base, auth, repo, bytes, ledger), size: bytes.length });
      }
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, nonce: randomBytes(8).toString('hex') }));
      await pushBlob(base, auth, repo, config, ledger);
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
        layers: layers.map((l) => ({ mediaType: OCI_LAYER_GZIP, ...l })),
      }));
      const tag = `r${round}-${n}`;
      const entry = { repo, tag, digest: sha256(manifest), bytes: manifest };
      ledger.attemptedManifests.push(entry);
      const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { authorization: auth, 'content-type': OCI_MANIFEST }, body: manifest });
      await expectStatus(res, 201, 'PUT manifest');
      ledger.ackedManifests.push(entry);
    } catch (err) {
      // Expected once the server is killed; anything before that is a real failure.
      if (stop.now) return;
      throw err;
    }
  }
}

async function getBytes(server: BerthServer, auth: string, path: string, accept?: string): Promise<{ status: number; bytes: Buffer; digest: string | null }> {
  const res = await server.fetch(path, { headers: { authorization: auth, ...(accept ? { accept } : {}) } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), digest: res.headers.get('docker-content-digest') };
}

/** Everything acknowledged reads back byte-identical; everything else is absent or complete. */
async function verify(server: BerthServer, auth: string, ledger: Ledger): Promise<void> {
  await expectTokenWorks(server, auth);
  const acked = new Set(ledger.ackedBlobs.map((b) => `${b.repo}@${b.digest}`));
  for (const b of ledger.ackedBlobs) {
    const got = await getBytes(server, auth, `/v2/${b.repo}/blobs/${b.digest}`);
    assert.equal(got.status, 200, `acknowledged blob ${b.repo}@${b.digest} is gone after the crash\n${server.logTail()}`);
    assert.equal(sha256(got.bytes), b.digest, `acknowledged blob ${b.repo}@${b.digest} came back with other bytes (${got.bytes.length} of ${b.bytes.length})`);
  }
  for (const b of ledger.attemptedBlobs) {
    if (acked.has(`${b.repo}@${b.digest}`)) continue;
    const got = await getBytes(server, auth, `/v2/${b.repo}/blobs/${b.digest}`);
    assert.ok(got.status === 404 || got.status === 200, `unacknowledged blob ${b.digest}: status ${got.status}`);
    if (got.status === 200) {
      assert.equal(got.bytes.length, b.bytes.length, `unacknowledged blob ${b.repo}@${b.digest} is visible half-written`);
      assert.equal(sha256(got.bytes), b.digest, `unacknowledged blob ${b.repo}@${b.digest} is visible with wrong bytes`);
    }
  }
  const ackedManifests = new Set(ledger.ackedManifests.map((m) => `${m.repo}:${m.tag}`));
  for (const m of ledger.attemptedManifests) {
    const byTag = await getBytes(server, auth, `/v2/${m.repo}/manifests/${m.tag}`, OCI_MANIFEST);
    if (ackedManifests.has(`${m.repo}:${m.tag}`)) {
      assert.equal(byTag.status, 200, `acknowledged manifest ${m.repo}:${m.tag} is gone after the crash`);
      assert.ok(byTag.bytes.equals(m.bytes), `acknowledged manifest ${m.repo}:${m.tag} came back with other bytes`);
      assert.equal(byTag.digest, m.digest);
      const byDigest = await getBytes(server, auth, `/v2/${m.repo}/manifests/${m.digest}`, OCI_MANIFEST);
      assert.equal(byDigest.status, 200);
      assert.ok(byDigest.bytes.equals(m.bytes));
    } else {
      assert.ok(byTag.status === 404 || (byTag.status === 200 && byTag.bytes.equals(m.bytes)),
        `unacknowledged manifest ${m.repo}:${m.tag}: status ${byTag.status}, ${byTag.bytes.length} bytes`);
    }
    if (byTag.status === 200) {
      // A visible manifest never points at missing content.
      const parsed = JSON.parse(byTag.bytes.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
      for (const d of [parsed.config.digest, ...parsed.layers.map((l) => l.digest)]) {
        const head = await server.fetch(`/v2/${m.repo}/blobs/${d}`, { method: 'HEAD', headers: { authorization: auth } });
        assert.equal(head.status, 200, `manifest ${m.repo}:${m.tag} is visible but its blob ${d} is not`);
      }
    }
  }
}

/** The login from before the crash still authenticates against the restarted process. */
async function expectTokenWorks(server: BerthServer, auth: string): Promise<void> {
  const res = await server.fetch('/v2/', { headers: { authorization: auth } });
  assert.equal(res.status, 200, `the registry token issued before the restart is refused after it: GET /v2/ answered ${res.status} ${await res.text()}\n${server.logTail()}`);
}

async function fsckConsistent(server: BerthServer, when: string): Promise<void> {
  const r = await run(process.execPath, [...BERTH_ARGS, 'fsck', '--data-dir', server.dataDir, '--json'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `berth fsck reports damage ${when}\n${describeRun(r, server)}`);
  const report = JSON.parse(r.stdout) as { missing: unknown[]; corrupt: unknown[]; sizeMismatch: unknown[]; checkedBlobs: number };
  assert.deepEqual([report.missing, report.corrupt, report.sizeMismatch], [[], [], []]);
  assert.ok(report.checkedBlobs > 0);
}

describe('crash safety (kill -9 during concurrent pushes)', { timeout: 600_000 }, () => {
  let server: BerthServer | undefined;
  after(async () => {
    await server?.dispose();
  });

  it(`acknowledged pushes survive ${ROUNDS} rounds of kill -9 under ${PUSHERS} concurrent pushers; nothing half-written is visible; fsck is clean`, async () => {
    const ledger = new Ledger();
    server = await BerthServer.start();
    // One login for the whole test, taken before any crash.
    const auth = server.authorization;
    const repos = Array.from({ length: PUSHERS }, (_, i) => `crash/p${i}`);
    for (const repo of repos) await server.ensureRepository(repo);
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) {
        await server.launch();
        await verify(server, auth, ledger);
      }
      const stop = { now: false };
      const ackedBefore = ledger.ackedBlobs.length;
      const threshold = ackedBefore + 8 + Math.floor(Math.random() * 24);
      const pushers = repos.map((repo) => pusher(server!.url, auth, repo, round, ledger, stop));
      const failed = Promise.all(pushers).then(() => undefined);
      // Kill once enough work was acknowledged, at a random moment in the middle of more work.
      const deadline = Date.now() + 30_000;
      while (ledger.ackedBlobs.length < threshold && Date.now() < deadline) {
        await Promise.race([sleep(5), failed]);
      }
      await sleep(Math.floor(Math.random() * 60));
      stop.now = true;
      await server.kill9();
      await failed;
      assert.ok(ledger.ackedBlobs.length > ackedBefore, `no blob was acknowledged in round ${round}\n${server.logTail()}`);
      process.stderr.write(`# round ${round}: ${ledger.ackedBlobs.length}/${ledger.attemptedBlobs.length} blobs and ${ledger.ackedManifests.length}/${ledger.attemptedManifests.length} manifests acknowledged so far\n`);
      await fsckConsistent(server, `right after kill -9 in round ${round}`);
    }
    await server.launch();
    await verify(server, auth, ledger);
    assert.ok(ledger.ackedManifests.length > 0, 'no manifest was acknowledged in any round');
    const exit = await server.stop();
    assert.equal(exit.code, 0, server.logTail());
    await fsckConsistent(server, 'after the final restart');
  });

  it('an upload cut by kill -9 in the middle of a chunk resumes after restart from the last acknowledged offset', async () => {
    const srv = await BerthServer.start();
    try {
      const repo = 'crash/resume';
      await srv.ensureRepository(repo);
      // The login from before the crash is used after it too.
      const auth = srv.authorization;
      const body = randomBytes(512 * 1024);
      const half = body.length / 2;
      const start = await srv.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { authorization: auth } });
      assert.equal(start.status, 202);
      await start.arrayBuffer();
      const location = start.headers.get('location')!;
      const first = await srv.fetch(location, { method: 'PATCH', headers: { authorization: auth, 'content-type': 'application/octet-stream', 'content-range': `0-${half - 1}` }, body: body.subarray(0, half) });
      assert.equal(first.status, 202);
      await first.arrayBuffer();

      // Second chunk: send a part of it, then kill the server while the request is still open.
      const req = request(`${srv.url}${location}`, {
        method: 'PATCH', agent: false,
        headers: { authorization: auth, 'content-type': 'application/octet-stream', 'content-length': half, 'content-range': `${half}-${body.length - 1}` },
      });
      req.on('error', () => undefined);
      req.write(body.subarray(half, half + 100 * 1024));
      await sleep(500);
      await srv.kill9();
      req.destroy();

      await srv.launch();
      await expectTokenWorks(srv, auth);
      const status = await srv.fetch(location, { headers: { authorization: auth } });
      assert.equal(status.status, 204, await status.text());
      assert.equal(status.headers.get('range'), `0-${half - 1}`, 'the session must end at the last acknowledged byte');
      const resumed = await srv.fetch(location, { method: 'PATCH', headers: { authorization: auth, 'content-type': 'application/octet-stream', 'content-range': `${half}-${body.length - 1}` }, body: body.subarray(half) });
      assert.equal(resumed.status, 202, `resuming the upload after a crash failed: PATCH ${location} (Content-Range ${half}-${body.length - 1}) answered ${resumed.status} ${await resumed.text()}`);
      const url = new URL(location, srv.url);
      url.searchParams.set('digest', sha256(body));
      const done = await fetch(url, { method: 'PUT', headers: { authorization: auth } });
      assert.equal(done.status, 201, await done.text());
      const blob = await srv.fetch(`/v2/${repo}/blobs/${sha256(body)}`, { headers: { authorization: auth } });
      assert.ok(Buffer.from(await blob.arrayBuffer()).equals(body));
    } finally {
      await srv.dispose();
    }
  });
});
