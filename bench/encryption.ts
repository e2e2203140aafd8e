// `npm run bench:encryption`: blob push and pull with encryption at rest versus without, in one
// run, same machine, interleaved rounds, median MiB/s. The target: at most 15 % slower.
// Both servers are berth (one worker each) on their own data directory; "without" is the app's
// benchmark-only seam. Sizes: BENCH_BLOB_MIB (default 512), rounds: BENCH_ROUNDS (default 3).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createBlobSource } from './blob-source.js';
import { drain, keepAliveAgent } from './http-client.js';
import { stopAll } from './procs.js';
import { RegistryClient } from './registry-client.js';
import { fmt, median } from './report.js';
import { berthLogin, freePort, spawnLogged, waitReady, type Server } from './servers.js';

const MiB = 1024 * 1024;
const mib = Number(process.env['BENCH_BLOB_MIB'] ?? 512);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const workDir = mkdtempSync(join(os.tmpdir(), 'berth-bench-enc-'));
const modes = ['encrypted', 'plain'] as const;

async function start(mode: (typeof modes)[number]): Promise<Server> {
  const dataDir = join(workDir, `data-${mode}`);
  const port = await freePort();
  const logFile = join(workDir, `${mode}.log`);
  const child = spawnLogged(process.execPath, ['--import', 'tsx', 'bench/encryption-server.ts', dataDir, String(port), mode], logFile,
    { ...process.env, NODE_ENV: 'production', BERTH_LOG_LEVEL: 'error' });
  const base = new URL(`http://127.0.0.1:${port}`);
  await waitReady(base, child, logFile, 60_000, '/readyz');
  return { kind: 'berth', description: `berth ${mode}`, base, dataDir, logFile, child, ...(await berthLogin(base, dataDir)) };
}

try {
  console.log(`encryption at rest: ${mib} MiB blob push and pull, ${rounds} rounds, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}`);
  const source = await createBlobSource(workDir, mib);
  const servers = { encrypted: await start('encrypted'), plain: await start('plain') };
  const figures = { push: { encrypted: [] as number[], plain: [] as number[] }, pull: { encrypted: [] as number[], plain: [] as number[] } };
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so neither mode always runs on a warmer page cache.
    for (const mode of round % 2 ? [...modes].reverse() : modes) {
      const server = servers[mode];
      const client = new RegistryClient(server, keepAliveAgent(1));
      const { digest, stream } = source.next();
      const repo = `bench/enc-r${round}`;
      let t0 = process.hrtime.bigint();
      await client.pushBlob(repo, digest, source.size, stream());
      figures.push[mode].push(source.size / MiB / (Number(process.hrtime.bigint() - t0) / 1e9));
      t0 = process.hrtime.bigint();
      const bytes = await drain(await client.openBlob(repo, digest));
      figures.pull[mode].push(bytes / MiB / (Number(process.hrtime.bigint() - t0) / 1e9));
      if (bytes !== source.size) throw new Error(`${mode}: pulled ${bytes} bytes, expected ${source.size}`);
      client.agent.destroy();
    }
  }
  console.log('\n| metric | encrypted | plaintext | encrypted / plaintext | target |\n|---|---|---|---|---|');
  for (const op of ['push', 'pull'] as const) {
    const e = median(figures[op].encrypted) ?? 0;
    const p = median(figures[op].plain) ?? 0;
    const ratio = e / p;
    console.log(`| ${mib} MiB blob ${op} (MiB/s, median) | ${fmt(e)} | ${fmt(p)} | ${ratio.toFixed(2)} | ≥ 0.85 ${ratio >= 0.85 ? 'met' : 'NOT met'} |`);
  }
  console.log(`\nrounds: ${JSON.stringify(figures)}`);
} finally {
  await stopAll();
  rmSync(workDir, { recursive: true, force: true });
}
