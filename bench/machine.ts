// The header: what machine and which binaries produced the figures.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import type { BenchConfig } from './config.js';

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

export function header(config: BenchConfig, wrkBin: string, servers: readonly string[]): string {
  const cpus = os.cpus();
  const lines = [
    'berth vs CNCF Distribution benchmark',
    `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `${os.type()} ${os.release()} ${os.arch()}`,
    `node ${process.version}; ${firstLine(wrkBin, ['-v'])}`,
    ...servers.map((s) => `server: ${s}`),
    `rounds ${config.rounds} (interleaved, median reported); blob ${config.blobMiB} MiB; tags ${config.tags}; ` +
      `wrk ${config.durationSec}s × ${config.wrkConnections} conns; push ${config.pushClients} clients × ` +
      `${config.imagesPerClient} image(s) × ${config.pushLayers} × ${config.pushLayerMiB} MiB${config.quick ? '; QUICK mode' : ''}`,
  ];
  if (cpus.length < 4) {
    lines.push(`note: only ${cpus.length} cores — wrk, the Node client and the server share them; ratios matter more than absolutes`);
  }
  return lines.join('\n');
}
