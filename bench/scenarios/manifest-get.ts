// Manifest GET throughput: wrk, 64 connections, plain GET by tag with an OCI+Docker Accept header.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { keepAliveAgent } from '../http-client.js';
import { treeCpuMs } from '../proc-cpu.js';
import { track } from '../procs.js';
import { MANIFEST_ACCEPT, makeImage, RegistryClient } from '../registry-client.js';
import type { Server } from '../servers.js';
import type { BenchContext, Measurement, Scenario } from './types.js';

const REPO = 'bench/manifest';
const TAG = 'latest';

interface WrkResult {
  readonly requestsPerSec: number;
  readonly requests: number;
  readonly p99Ms: number | undefined;
  readonly errors: string[];
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const requests = /(\d+) requests in /.exec(out);
  if (!rps?.[1] || !requests?.[1]) throw new Error(`could not parse wrk output:\n${out}`);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const errors: string[] = [];
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non2xx?.[1]) errors.push(`${non2xx[1]} non-2xx responses`);
  const sock = /Socket errors:([^\n]+)/.exec(out);
  if (sock?.[1]) errors.push(`socket errors:${sock[1]}`);
  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(requests[1]),
    p99Ms: p99?.[1] && p99[2] ? toMs(p99[1], p99[2]) : undefined,
    errors,
  };
}

function runWrk(bin: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}:\n${out}`))));
  });
}

export function manifestGet(ctx: BenchContext): Scenario {
  const { config } = ctx;
  const wrkArgs = (server: Server, seconds: number): string[] => [
    `-t${config.wrkThreads}`,
    `-c${config.wrkConnections}`,
    `-d${seconds}s`,
    '--latency',
    // BENCH_WRK_TIMEOUT (e.g. 10s): on a crowded machine wrk's 2 s default turns queueing into errors.
    ...(process.env['BENCH_WRK_TIMEOUT'] ? ['--timeout', process.env['BENCH_WRK_TIMEOUT']] : []),
    '-H',
    `Accept: ${MANIFEST_ACCEPT}`,
    ...(server.authorization ? ['-H', `Authorization: ${server.authorization}`] : []),
    new URL(`/v2/${REPO}/manifests/${TAG}`, server.base).href,
  ];
  return {
    id: 'manifest-get',
    title: `manifest GET, wrk -t${config.wrkThreads} -c${config.wrkConnections} -d${config.durationSec}s`,
    metrics: [
      { id: 'rps', label: `manifest GET @${config.wrkConnections} conns`, unit: 'req/s', higherIsBetter: true, targetRatio: 10 },
      { id: 'p99', label: 'manifest GET p99 latency', unit: 'ms', higherIsBetter: false, targetText: 'informational' },
      // Server CPU (all its processes) per request: steadier than req/s on a shared machine.
      { id: 'cpu', label: 'manifest GET server CPU', unit: 'µs/req', higherIsBetter: false, targetText: 'informational' },
    ],
    async setup(server) {
      const client = new RegistryClient(server, keepAliveAgent(4));
      await client.pushImage(REPO, TAG, makeImage([randomBytes(4096)]));
      await client.getManifest(REPO, TAG);
      // Warm-up (JIT, caches) so round 1 is not penalised for either server.
      await runWrk(ctx.wrkBin, wrkArgs(server, 2));
      client.agent.destroy();
    },
    async measure(server): Promise<Measurement> {
      const cpuBefore = treeCpuMs(server.child.pid);
      const r = parseWrk(await runWrk(ctx.wrkBin, wrkArgs(server, config.durationSec)));
      const cpuAfter = treeCpuMs(server.child.pid);
      if (r.errors.length > 0) throw new Error(`${server.kind}: wrk reported ${r.errors.join(', ')}`);
      const values: Record<string, number> = { rps: r.requestsPerSec };
      if (r.p99Ms !== undefined) values['p99'] = r.p99Ms;
      if (cpuBefore !== undefined && cpuAfter !== undefined && r.requests > 0) values['cpu'] = ((cpuAfter - cpuBefore) * 1000) / r.requests;
      return { values };
    },
  };
}
