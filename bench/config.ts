// Benchmark knobs, read once from the environment. Defaults are the sizes;
// BENCH_QUICK=1 shrinks everything for a smoke run (still exercises every code path).

export type ServerKind = 'berth' | 'distribution';

export interface BenchConfig {
  readonly quick: boolean;
  /** Rounds per scenario; each round measures every server once, interleaved. */
  readonly rounds: number;
  readonly blobMiB: number;
  readonly tags: number;
  /** wrk duration in seconds for the manifest GET scenario. */
  readonly durationSec: number;
  readonly wrkConnections: number;
  readonly wrkThreads: number;
  readonly pushClients: number;
  readonly pushLayers: number;
  readonly pushLayerMiB: number;
  readonly imagesPerClient: number;
  /** Layer uploads in flight per client (docker's default max-concurrent-uploads is 3). */
  readonly layerConcurrency: number;
  readonly tagPageSize: number;
  readonly servers: readonly ServerKind[];
  /** 'auto' = `npm run build` then bin/berth.js, tsx source on build failure. */
  readonly berthMode: 'auto' | 'dist' | 'tsx';
  readonly keepData: boolean;
  readonly only: readonly string[];
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

function list(name: string): string[] {
  const raw = process.env[name];
  return raw ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
}

function servers(): ServerKind[] {
  const raw = list('BENCH_SERVERS');
  if (raw.length === 0) return ['berth', 'distribution'];
  for (const s of raw) {
    if (s !== 'berth' && s !== 'distribution') throw new Error(`BENCH_SERVERS: unknown server ${JSON.stringify(s)}`);
  }
  return raw as ServerKind[];
}

function berthMode(): BenchConfig['berthMode'] {
  const raw = process.env['BENCH_BERTH'] ?? 'auto';
  if (raw === 'auto' || raw === 'dist' || raw === 'tsx') return raw;
  throw new Error(`BENCH_BERTH must be auto, dist or tsx, got ${JSON.stringify(raw)}`);
}

export function loadConfig(): BenchConfig {
  const quick = process.env['BENCH_QUICK'] === '1';
  return Object.freeze({
    quick,
    rounds: int('BENCH_ROUNDS', quick ? 1 : 5),
    blobMiB: int('BENCH_BLOB_MIB', quick ? 16 : 512),
    tags: int('BENCH_TAGS', quick ? 300 : 10_000),
    durationSec: int('BENCH_DURATION', quick ? 2 : 10),
    wrkConnections: int('BENCH_CONNECTIONS', 64),
    wrkThreads: int('BENCH_WRK_THREADS', 2),
    pushClients: int('BENCH_PUSH_CLIENTS', 8),
    pushLayers: int('BENCH_PUSH_LAYERS', 8),
    pushLayerMiB: int('BENCH_LAYER_MIB', 1),
    imagesPerClient: int('BENCH_IMAGES_PER_CLIENT', quick ? 1 : 4),
    layerConcurrency: int('BENCH_LAYER_CONCURRENCY', 3),
    tagPageSize: int('BENCH_TAG_PAGE', 100),
    servers: servers(),
    berthMode: berthMode(),
    keepData: process.env['BENCH_KEEP'] === '1',
    only: list('BENCH_ONLY'),
  });
}
