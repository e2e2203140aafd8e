/**
 * Online garbage collection under load, against a real berth process: concurrent pushes (layers
 * shared across repositories), deletes and `berth gc` loops with a 2-second grace period, for a
 * bounded time. Afterwards every image acknowledged as pushed and not deleted pulls back
 * byte-identical, `berth fsck` finds nothing missing, and no unreferenced blob or link older than
 * the grace period remains. Then `berth gc` is killed with SIGKILL in the middle of a run over
 * thousands of garbage blobs, and the same holds after a rerun.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { BERTH_ARGS, BerthServer, describeRun, run, sleep } from './harness.js';

const STRESS_MS = Number(process.env.BERTH_GC_STRESS_MS ?? 30_000);
const GRACE_S = 2;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Pushed { repo: string; digest: string; body: Buffer; blobs: Map<string, Buffer> }

describe('online GC stress: pushes, deletes and GC loops at once; kill -9 mid-GC', { timeout: 600_000 }, () => {
  let server: BerthServer;
  const berth = (...args: string[]) => run(process.execPath, [...BERTH_ARGS, ...args, '--data-dir', server.dataDir], { timeoutMs: 120_000 });
  const repos = ['gc/a', 'gc/b', 'gc/c'];
  // A small pool of layers every repository's images draw from, so deletes in one repository
  // leave blobs referenced from another.
  const shared = Array.from({ length: 6 }, () => randomBytes(2048 + Math.floor(Math.random() * 4096)));
  const live = new Map<string, Pushed>();
  const stats = { pushed: 0, pushFailures: 0, deleted: 0, gcRuns: 0, gcFreed: 0 };

  async function ensureBlob(repo: string, bytes: Buffer): Promise<boolean> {
    const d = digestOf(bytes);
    const head = await server.fetch(`/v2/${repo}/blobs/${d}`, { method: 'HEAD' });
    if (head.status === 200) return true;
    const res = await server.fetch(`/v2/${repo}/blobs/uploads/?digest=${d}`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    await res.arrayBuffer();
    return res.status === 201;
  }

  /** Pushes one image; resolves with it when the registry acknowledged the manifest (201), else undefined. */
  async function pushImage(repo: string): Promise<Pushed | undefined> {
    const layers = [shared[Math.floor(Math.random() * shared.length)]!, shared[Math.floor(Math.random() * shared.length)]!, randomBytes(1024)];
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
    const blobs = new Map<string, Buffer>([[digestOf(config), config], ...layers.map((l) => [digestOf(l), l] as [string, Buffer])]);
    for (const b of blobs.values()) if (!(await ensureBlob(repo, b))) return undefined;
    const body = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(l), size: l.length })),
    }));
    const digest = digestOf(body);
    const res = await server.fetch(`/v2/${repo}/manifests/${digest}`, { method: 'PUT', body, headers: { 'content-type': MANIFEST } });
    await res.arrayBuffer();
    return res.status === 201 ? { repo, digest, body, blobs } : undefined;
  }

  async function assertPullsBack(p: Pushed): Promise<void> {
    const m = await server.fetch(`/v2/${p.repo}/manifests/${p.digest}`, { headers: { accept: MANIFEST } });
    assert.equal(m.status, 200, `manifest ${p.repo}@${p.digest}`);
    assert.ok(Buffer.from(await m.arrayBuffer()).equals(p.body));
    for (const [d, bytes] of p.blobs) {
      const b = await server.fetch(`/v2/${p.repo}/blobs/${d}`);
      assert.equal(b.status, 200, `blob ${d} of ${p.repo}@${p.digest}`);
      assert.ok(Buffer.from(await b.arrayBuffer()).equals(bytes), `blob ${d} of ${p.repo}@${p.digest} came back different`);
    }
  }

  /** Links no manifest references that are older than the grace period (there must be none after a GC). */
  function staleUnreferencedLinks(): number {
    const db = new Database(join(server.dataDir, 'meta.db'), { readonly: true });
    try {
      return (db.prepare(`SELECT count(*) AS n FROM repository_blobs b WHERE b.created_at < ? AND NOT EXISTS
        (SELECT 1 FROM manifest_blobs mb WHERE mb.repository_id = b.repository_id AND mb.blob_digest = b.digest)`).get(Date.now() - GRACE_S * 1000) as { n: number }).n;
    } finally {
      db.close();
    }
  }

  async function fsckJson(): Promise<{ missing: unknown[]; corrupt: unknown[]; sizeMismatch: unknown[]; orphans: unknown[] }> {
    const r = await berth('fsck', '--json');
    assert.ok(r.code === 0 || r.code === 1, describeRun(r, server));
    return JSON.parse(r.stdout) as { missing: unknown[]; corrupt: unknown[]; sizeMismatch: unknown[]; orphans: unknown[] };
  }

  before(async () => {
    server = await BerthServer.start({ env: { BERTH_GC_INTERVAL_MINUTES: '0', BERTH_LIFECYCLE_INTERVAL_MINUTES: '0' } });
    for (const r of repos) await server.ensureRepository(r);
  });
  after(async () => {
    await server?.dispose();
  });

  it(`survives ${STRESS_MS / 1000} s of concurrent pushes, deletes and GC loops: acknowledged images pull byte-identical, nothing stale remains`, async () => {
    const deadline = Date.now() + STRESS_MS;
    const pusher = async () => {
      while (Date.now() < deadline) {
        const repo = repos[Math.floor(Math.random() * repos.length)]!;
        const p = await pushImage(repo);
        if (p) {
          live.set(`${p.repo}@${p.digest}`, p);
          stats.pushed++;
        } else {
          stats.pushFailures++;
        }
      }
    };
    const deleter = async () => {
      while (Date.now() < deadline) {
        await sleep(50);
        const keys = [...live.keys()];
        if (keys.length < 5) continue;
        const key = keys[Math.floor(Math.random() * keys.length)]!;
        const p = live.get(key)!;
        live.delete(key); // not acknowledged as present from here on, whatever the answer
        const res = await server.fetch(`/v2/${p.repo}/manifests/${p.digest}`, { method: 'DELETE' });
        await res.arrayBuffer();
        if (res.status === 202) stats.deleted++;
      }
    };
    const collector = async () => {
      while (Date.now() < deadline) {
        const r = await berth('gc', '--grace-seconds', String(GRACE_S), '--json');
        assert.equal(r.code, 0, describeRun(r, server));
        stats.gcRuns++;
        stats.gcFreed += (JSON.parse(r.stdout) as { blobsDeleted: number }).blobsDeleted;
      }
    };
    await Promise.all([pusher(), pusher(), pusher(), deleter(), collector()]);
    console.log(`stress: ${JSON.stringify(stats)}`);
    assert.ok(stats.pushed > 20, `only ${stats.pushed} pushes were acknowledged`);
    assert.ok(stats.gcRuns >= 2 && stats.gcFreed > 0, `GC ran ${stats.gcRuns} times and freed ${stats.gcFreed} blobs`);

    for (const p of live.values()) await assertPullsBack(p);
    await sleep((GRACE_S + 1) * 1000);
    const last = await berth('gc', '--grace-seconds', String(GRACE_S));
    assert.equal(last.code, 0, describeRun(last, server));
    const report = await fsckJson();
    assert.deepEqual([report.missing, report.corrupt, report.sizeMismatch], [[], [], []]);
    assert.deepEqual(report.orphans, [], 'unreferenced blobs older than the grace period remain');
    assert.equal(staleUnreferencedLinks(), 0);
    for (const p of live.values()) await assertPullsBack(p);
  });

  it('berth gc killed with SIGKILL mid-run leaves the registry consistent; a rerun finishes the job', async () => {
    // Thousands of garbage blobs (bytes nothing links), older than the grace period.
    const old = new Date(Date.now() - 3_600_000);
    for (let i = 0; i < 4000; i++) {
      const bytes = randomBytes(64);
      const hex = digestOf(bytes).slice(7);
      const dir = join(server.dataDir, 'blobs', 'sha256', hex.slice(0, 2));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, hex), bytes);
      utimesSync(join(dir, hex), old, old);
    }
    const before = (await fsckJson()).orphans.length;
    assert.ok(before >= 4000);
    const child = (await import('node:child_process')).spawn(process.execPath, [...BERTH_ARGS, 'gc', '--grace-seconds', String(GRACE_S), '--data-dir', server.dataDir], { stdio: 'ignore' });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    // Kill once it has deleted some but not all of them.
    let mid = before;
    for (let i = 0; i < 400 && mid >= before - 50; i++) {
      await sleep(25);
      const db = new Database(join(server.dataDir, 'meta.db'), { readonly: true });
      mid = before - (db.prepare('SELECT count(*) AS n FROM gc_blob_fence').get() as { n: number }).n;
      db.close();
    }
    child.kill('SIGKILL');
    assert.equal(await exited, null, 'gc finished before it could be killed');
    const afterKill = await fsckJson();
    assert.deepEqual([afterKill.missing, afterKill.corrupt, afterKill.sizeMismatch], [[], [], []]);
    assert.ok(afterKill.orphans.length > 0, 'the killed GC had already finished');
    for (const p of live.values()) await assertPullsBack(p);

    const rerun = await berth('gc', '--grace-seconds', String(GRACE_S));
    assert.equal(rerun.code, 0, describeRun(rerun, server));
    const final = await fsckJson();
    assert.deepEqual([final.missing, final.corrupt, final.sizeMismatch, final.orphans], [[], [], [], []]);
    for (const p of live.values()) await assertPullsBack(p);
    const fence = new Database(join(server.dataDir, 'meta.db'), { readonly: true });
    assert.equal((fence.prepare('SELECT count(*) AS n FROM gc_blob_fence').get() as { n: number }).n, 0);
    fence.close();
  });
});
