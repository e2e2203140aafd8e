// Profiling aid (not a benchmark): starts berth (--workers N, default 1) under `node --cpu-prof`,
// pushes the manifest-GET scenario's image, runs wrk against it, stops berth so V8 writes the
// .cpuprofile files, and prints the top self-time frames of each. Usage:
//   node --import tsx bench/profile-get.ts [outDir]     (BENCH_BERTH_WORKERS, BENCH_DURATION)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepAliveAgent } from './http-client.js';
import { stopAll } from './procs.js';
import { MANIFEST_ACCEPT, makeImage, RegistryClient } from './registry-client.js';
import { startBerth } from './servers.js';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

export function topSelf(file: string, n = 40): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const self = new Map<string, number>();
  let total = 0;
  for (const node of p.nodes) {
    const f = node.callFrame;
    const key = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
}

const out = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'berth-prof-'));
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'berth-prof-work-'));
process.env['BENCH_BERTH_WORKERS'] ??= '1';
process.env['BENCH_NODE_ARGS'] = `--cpu-prof --cpu-prof-dir=${out}`;
const server = await startBerth(process.env['BENCH_BERTH'] === 'tsx' ? { mode: 'tsx', note: 'profiled from source' } : { mode: 'dist', note: 'profiled' }, work);
delete process.env['BENCH_NODE_ARGS'];
const client = new RegistryClient(server, keepAliveAgent(4));
await server.ensureRepository?.('bench/manifest');
await client.pushImage('bench/manifest', 'latest', makeImage([randomBytes(4096)]));
const url = new URL('/v2/bench/manifest/manifests/latest', server.base).href;
const wrk = spawn('wrk', ['-t2', '-c64', `-d${process.env['BENCH_DURATION'] ?? '10'}s`, '--latency', '-H', `Accept: ${MANIFEST_ACCEPT}`,
  '-H', `Authorization: ${server.authorization ?? ''}`, url], { stdio: 'inherit' });
await new Promise((r) => wrk.once('exit', r));
client.agent.destroy();
await stopAll();
for (const f of readdirSync(out).filter((x) => x.endsWith('.cpuprofile'))) {
  console.log(`\n== ${join(out, f)}\n${topSelf(join(out, f))}`);
}
