/**
 * `berth encrypt-existing` on a data directory holding plaintext blobs (as written before
 * encryption at rest): fsck reports them, a kill -9 in the middle of the run leaves every blob
 * readable and fsck consistent, a second run finishes while the server keeps serving pulls, and
 * afterwards fsck reports no plaintext and every file on disk is an envelope.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sha256 } from '../fixtures/oci-image.js';
import { BERTH_ARGS, BerthServer, describeRun, REPO_ROOT, run, sleep } from './harness.js';

interface Report { plaintext: string[]; corrupt: unknown[]; missing: unknown[]; sizeMismatch: unknown[] }

async function fsckReport(server: BerthServer, when: string): Promise<Report> {
  const r = await run(process.execPath, [...BERTH_ARGS, 'fsck', '--data-dir', server.dataDir, '--json'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `berth fsck reports damage ${when}\n${describeRun(r, server)}`);
  return JSON.parse(r.stdout) as Report;
}

describe('berth encrypt-existing e2e', { timeout: 600_000 }, () => {
  let server: BerthServer;
  after(async () => {
    await server?.dispose();
  });

  it('encrypts plaintext blobs in place: resumable after kill -9, safe while serving, fsck clean', async () => {
    server = await BerthServer.start();
    const repo = 'legacy/app';
    await server.ensureRepository(repo);
    const blobs: Buffer[] = [];
    for (let i = 0; i < 12; i++) blobs.push(randomBytes(6 * 1024 * 1024 + i * 4099));
    for (const bytes of blobs) {
      const res = await server.fetch(`/v2/${repo}/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
      assert.equal(res.status, 201, await res.text());
    }
    // Make the data directory look like one written before encryption at rest: plaintext files.
    await server.stop();
    const fileOf = (d: string) => join(server.dataDir, 'blobs', 'sha256', d.slice(7, 9), d.slice(7));
    for (const bytes of blobs) await writeFile(fileOf(sha256(bytes)), bytes);
    await server.launch();
    const pullAll = async () => {
      for (const bytes of blobs) {
        const res = await server.fetch(`/v2/${repo}/blobs/${sha256(bytes)}`);
        assert.equal(res.status, 200);
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'pulled bytes differ');
      }
    };
    await pullAll();
    const before = await fsckReport(server, 'before encrypting');
    assert.equal(before.plaintext.length, blobs.length);

    // kill -9 in the middle of a run.
    const child = spawn(process.execPath, [...BERTH_ARGS, 'encrypt-existing', '--data-dir', server.dataDir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    for (let i = 0; i < 2400 && !/encrypted sha256/.test(out); i++) await sleep(25);
    child.kill('SIGKILL');
    await new Promise((done) => child.once('exit', done));
    await pullAll();
    const middle = await fsckReport(server, 'after kill -9 of encrypt-existing');
    assert.ok(middle.plaintext.length < blobs.length && middle.plaintext.length > 0, `a partial run: ${middle.plaintext.length} left (${out})`);

    // The second run finishes while pulls go on.
    let pulling = true;
    let pulls = 0;
    const puller = (async () => {
      while (pulling) {
        await pullAll();
        pulls++;
      }
    })();
    const second = await run(process.execPath, [...BERTH_ARGS, 'encrypt-existing', '--data-dir', server.dataDir], { timeoutMs: 240_000 });
    pulling = false;
    await puller;
    assert.equal(second.code, 0, describeRun(second, server));
    assert.match(second.stdout, new RegExp(`encrypted ${middle.plaintext.length} blob`));
    assert.ok(pulls > 0);
    const afterwards = await fsckReport(server, 'after encrypt-existing');
    assert.deepEqual(afterwards.plaintext, []);
    for (const bytes of blobs) {
      const stored = await readFile(fileOf(sha256(bytes)));
      assert.equal(stored.subarray(0, 8).toString('latin1'), 'BRTHENC1');
      assert.ok(!stored.includes(bytes.subarray(1000, 1032)), 'plaintext left on disk');
    }
    await pullAll();
    // A third run has nothing to do.
    const third = await run(process.execPath, [...BERTH_ARGS, 'encrypt-existing', '--data-dir', server.dataDir], { timeoutMs: 60_000 });
    assert.match(third.stdout, /^0 plaintext blob/m);
  });
});
