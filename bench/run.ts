// `npm run bench`: berth vs CNCF Distribution, same scenarios, interleaved rounds, median + ratio.
// Env knobs are documented in bench/README.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createBlobSource, type BlobSource } from './blob-source.js';
import { loadConfig, type ServerKind } from './config.js';
import { header } from './machine.js';
import { stopAll } from './procs.js';
import { fmt, render, type Results } from './report.js';
import { blobPull } from './scenarios/blob-pull.js';
import { blobPush } from './scenarios/blob-push.js';
import { concurrentPush } from './scenarios/concurrent-push.js';
import { manifestGet } from './scenarios/manifest-get.js';
import { tagList } from './scenarios/tag-list.js';
import { startupBench } from './startup.js';
import type { BenchContext, Measurement, Scenario } from './scenarios/types.js';
import { findExecutable, postMortem, prepareBerth, startBerth, startDistribution, type Server } from './servers.js';

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

const config = loadConfig();
const wrkBin = findExecutable(process.env['BENCH_WRK'] ?? 'wrk');
const distBin = findExecutable(process.env['BENCH_DISTRIBUTION_BIN'] ?? 'docker-registry');
const missing = [
  wrkBin ? undefined : 'wrk (install: sudo apt-get install wrk)',
  distBin || !config.servers.includes('distribution') ? undefined : 'docker-registry (install: sudo apt-get install docker-registry)',
].filter((m): m is string => m !== undefined);
if (missing.length > 0 || !wrkBin) {
  log(`missing required tools:\n${missing.map((m) => `  ${m}`).join('\n')}`);
  process.exit(2);
}

const workDir = mkdtempSync(join(os.tmpdir(), 'berth-bench-'));
let cleaning: Promise<void> | undefined;
let interrupted = false;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll();
    if (config.keepData) log(`kept data in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted = true;
    log(`\n${sig}: stopping servers…`);
    void cleanup().finally(() => process.exit(130));
  });
}

let blob: Promise<BlobSource> | undefined;
const ctx: BenchContext = {
  config,
  workDir,
  wrkBin,
  blobSource: () => (blob ??= createBlobSource(workDir, config.blobMiB)),
};

async function startServers(): Promise<Server[]> {
  const started: Server[] = [];
  for (const kind of config.servers) {
    if (kind === 'distribution') started.push(await startDistribution(distBin as string, workDir));
    else started.push(await startBerth(prepareBerth(config.berthMode), workDir).catch((err: unknown) => {
      throw new Error(`berth failed to start: ${err instanceof Error ? err.message : String(err)}\n` +
        '(benchmark CNCF Distribution alone with BENCH_SERVERS=distribution)');
    }));
  }
  return started;
}

async function runScenario(s: Scenario, servers: readonly Server[], results: Results): Promise<void> {
  log(`\n== ${s.title}`);
  const byServer = new Map<ServerKind, Measurement[]>();
  results.set(s.id, byServer);
  for (const server of servers) {
    const t0 = Date.now();
    await s.setup(server);
    log(`   setup ${server.kind}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    byServer.set(server.kind, []);
  }
  for (let round = 1; round <= config.rounds; round++) {
    for (const server of servers) {
      const m = await s.measure(server, round).catch((err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        throw new Error(`${s.id} round ${round} on ${server.kind}: ${why}\n${postMortem(server)}`);
      });
      byServer.get(server.kind)?.push(m);
      const shown = s.metrics.map((x) => `${fmt(m.values[x.id])} ${x.unit}`).join(', ');
      log(`   round ${round}/${config.rounds} ${server.kind.padEnd(12)} ${shown}`);
    }
  }
}

async function main(): Promise<void> {
  const servers = await startServers();
  console.log(header(config, wrkBin as string, servers.map((s) => `${s.kind} — ${s.description} on ${s.base.host}`)));
  const all = [manifestGet, blobPush, blobPull, concurrentPush, tagList].map((f) => f(ctx));
  const chosen = config.only.length > 0 ? all.filter((s) => config.only.includes(s.id)) : all;
  const results: Results = new Map();
  for (const s of chosen) await runScenario(s, servers, results);
  console.log(`\n${render(chosen, results, config.servers)}`);
  if (config.only.length === 0 || config.only.includes('startup')) {
    await stopAll();
    log('\n== start-up (servers above stopped first)');
    console.log(`\n${await startupBench({ workDir, rounds: config.rounds, distributionBin: distBin })}`);
  }
  const jsonOut = process.env['BENCH_JSON'];
  if (jsonOut) {
    const plain = Object.fromEntries([...results].map(([id, m]) => [id, Object.fromEntries(m)]));
    writeFileSync(jsonOut, JSON.stringify({ config, node: process.version, cores: os.cpus().length, results: plain }, null, 2));
  }
}

try {
  await main();
  await cleanup();
} catch (err) {
  // After SIGINT the killed children make the current step fail; that is not worth reporting.
  if (!interrupted) {
    log(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
    if (!config.keepData) log('(re-run with BENCH_KEEP=1 to keep the data dirs and server logs)');
  }
  await cleanup();
  process.exit(interrupted ? 130 : 1);
}
