// Start-up: from spawning the server process to its first answered request (any HTTP status on
// GET /v2/), on a fresh and on an existing data directory, berth (default workers and one worker)
// beside CNCF Distribution. Each case runs BENCH_ROUNDS times (at least 5); the median and the best
// are printed. Tests, CI jobs and restarted workers pay this on every start. A round starts every
// case once, in turn; each start waits until the previous one's writes are flushed (quiesce).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fmt, median } from './report.js';
import { repoRoot } from './servers.js';

interface Case {
  readonly label: string;
  /** Spawns the server on `port` with data in `dir`. */
  start(port: number, dir: string): ChildProcess;
  /** Reuse one data directory across rounds (after a first, untimed start that creates it). */
  readonly existing: boolean;
}

function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const srv = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => done(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Resolves with ms from `t0` to the first HTTP response on GET /v2/ (polling every 2 ms). */
function firstAnswer(port: number, child: ChildProcess, t0: bigint, timeoutMs = 30_000): Promise<number> {
  return new Promise((done, reject) => {
    const tryOnce = () => {
      if (child.exitCode !== null) return reject(new Error(`server exited with ${child.exitCode} before answering`));
      if (Number(process.hrtime.bigint() - t0) / 1e6 > timeoutMs) return reject(new Error('no answer within 30 s'));
      const req = http.get({ host: '127.0.0.1', port, path: '/v2/', agent: false }, (res) => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        res.resume();
        done(ms);
      });
      req.once('error', () => setTimeout(tryOnce, 2));
    };
    tryOnce();
  });
}

/**
 * Between rounds: the stopped server's last writes (berth checkpoints SQLite and fsyncs on close; a
 * fresh round's data dir is removed) are flushed and given a moment, so that no round starts while
 * the kernel still writes back the previous one. Without it a round measured 40–50 ms of that
 * writeback (back-to-back berth starts: median 354–369 ms against 312–320 ms with this pause).
 */
async function quiesce(): Promise<void> {
  spawnSync('sync');
  await new Promise((done) => setTimeout(done, 300));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function row(label: string, times: number[]): string {
  return `  ${label.padEnd(52)} median ${fmt(median(times)).padStart(5)} ms   best ${fmt(Math.min(...times)).padStart(5)} ms   (${times.map((t) => fmt(t)).join(', ')})`;
}

export async function startupBench(opts: { workDir: string; rounds: number; distributionBin: string | undefined }): Promise<string> {
  const berth = (workers: string[]) => (port: number, dir: string) => spawn(process.execPath,
    ['bin/berth.js', 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dir, ...workers],
    { cwd: repoRoot, stdio: 'ignore', env: { ...process.env, BERTH_LOG_LEVEL: 'error' } });
  const distribution = (port: number, dir: string) => {
    mkdirSync(dir, { recursive: true });
    const cfg = join(dir, 'config.yml');
    writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
    return spawn(opts.distributionBin!, ['serve', cfg], { stdio: 'ignore' });
  };
  const cases: Case[] = [
    { label: 'berth (default workers = auto), fresh data dir', start: berth([]), existing: false },
    { label: 'berth (default workers = auto), existing data dir', start: berth([]), existing: true },
    { label: 'berth --workers 1, fresh data dir', start: berth(['--workers', '1']), existing: false },
    { label: 'berth --workers 1, existing data dir', start: berth(['--workers', '1']), existing: true },
    ...(opts.distributionBin ? [{ label: 'CNCF Distribution', start: distribution, existing: true }] : []),
  ];
  // Rounds interleave the cases (round i starts each case once, in turn), so a slower or quieter
  // phase of the machine (a VM's neighbours, CPU frequency) lands on every case alike; run case by
  // case, one block of rounds caught a slow phase the next did not (27–44 ms between two cases that
  // measure the same when interleaved).
  const dirOf = (c: Case, round: number) => join(opts.workDir, `startup-${cases.indexOf(c)}${c.existing ? '' : `-${round}`}`);
  for (const c of cases.filter((x) => x.existing)) {
    const port = await freePort();
    const child = c.start(port, dirOf(c, 0));
    try {
      await firstAnswer(port, child, process.hrtime.bigint());
    } finally {
      await stop(child);
    }
  }
  const times = cases.map(() => [] as number[]);
  // The floor under any Node.js server here: spawning `node -e 0` until it exits, once a round too.
  // Every berth start pays it once (a supervisor answers on its own until its workers are up).
  const bare: number[] = [];
  for (let i = 0; i < Math.max(5, opts.rounds); i++) {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((done) => child.once('exit', done));
    bare.push(Number(process.hrtime.bigint() - t0) / 1e6);
    for (const [at, c] of cases.entries()) {
      const dir = dirOf(c, i);
      const port = await freePort();
      const t0 = process.hrtime.bigint();
      const child = c.start(port, dir);
      try {
        times[at]!.push(await firstAnswer(port, child, t0));
      } finally {
        await stop(child);
      }
      if (!c.existing) rmSync(dir, { recursive: true, force: true });
      await quiesce();
    }
  }
  const rows = cases.map((c, at) => row(c.label, times[at]!));
  rows.push(row('(reference) Node.js alone: node -e 0, spawn → exit', bare));
  return ['start-up: spawn → first answered GET /v2/ (target: berth under 300 ms)', ...rows].join('\n');
}
