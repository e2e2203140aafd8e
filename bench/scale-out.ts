// `npm run bench:scale-out`: what the shared stores cost per request, one run, side by side (issue 11).
//
//   A  one node, SQLite + local disk              (the embedded default; requests straight to the node)
//   B  one node, PostgreSQL + S3 (Ceph RGW)      (needs BERTH_E2E_POSTGRES_URL + BERTH_E2E_S3_*; straight to the node)
//   C  three nodes behind HAProxy (round-robin)  (on PostgreSQL + S3 when configured, else one shared SQLite dir)
//
// Figures: manifest GET req/s (wrk -t2 -c32, BENCH_SO_SECONDS), blob push and pull MiB/s (one
// BENCH_SO_BLOB_MIB blob, monolithic POST+PUT, then GET), image push images/s (BENCH_SO_IMAGES
// images of 3 × 256 KiB layers, 4 clients). All on this machine: with 2 cores, more nodes cannot
// add throughput — the point is the per-request cost of the network stores and the balancer hop.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Cluster, clusterKind, type ClusterKind } from '../test/e2e/cluster.js';
import type { BerthServer } from '../test/e2e/harness.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const SECONDS = Number(process.env.BENCH_SO_SECONDS ?? 5);
const BLOB_MIB = Number(process.env.BENCH_SO_BLOB_MIB ?? 64);
const IMAGES = Number(process.env.BENCH_SO_IMAGES ?? 24);
const log = (m: string) => process.stderr.write(`${m}\n`);
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Row { manifestRps: number; p99Ms: number; pushMiBs: number; pullMiBs: number; imagesPerSec: number }

/** Where requests go: a node directly, or the balancer. */
type Target = { cluster: Cluster; node?: BerthServer };
const base = (t: Target) => (t.node ? t.node.url : t.cluster.url);
const req = (t: Target, path: string, init: RequestInit = {}) => t.cluster.fetch(path, init, t.node);

async function pushBlob(t: Target, repo: string, data: Buffer): Promise<string> {
  const digest = digestOf(data);
  const start = await req(t, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`POST upload: ${start.status} ${await start.text()}`);
  const u = new URL(start.headers.get('location')!, base(t));
  u.searchParams.set('digest', digest);
  const put = await req(t, u.pathname + u.search, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${await put.text()}`);
  return digest;
}

async function pushImage(t: Target, repo: string, tag: string): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(8).toString('hex') }));
  const layers = [randomBytes(256 * 1024), randomBytes(256 * 1024), randomBytes(256 * 1024)];
  const configDigest = await pushBlob(t, repo, config);
  const descs = [];
  for (const l of layers) descs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await pushBlob(t, repo, l), size: l.length });
  const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: descs });
  const res = await req(t, `/v2/${repo}/manifests/${tag}`, { method: 'PUT', body, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 201) throw new Error(`PUT manifest: ${res.status} ${await res.text()}`);
}

function wrk(url: string, auth: string): Promise<{ rps: number; p99Ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t2', '-c32', `-d${SECONDS}s`, '--latency', '-H', 'Accept: application/vnd.oci.image.manifest.v1+json', '-H', `Authorization: ${auth}`, url]);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p99 = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
      const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
      if (code !== 0 || !rps || non2xx) return reject(new Error(`wrk failed (exit ${code}):\n${out}`));
      const ms = p99 ? Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1) : NaN;
      resolve({ rps: Number(rps[1]), p99Ms: ms });
    });
  });
}

async function measure(t: Target): Promise<Row> {
  const r = await t.cluster.aws(['ecr', 'create-repository', '--repository-name', 'bench/so']);
  if (r.code !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(r.stderr);
  await pushImage(t, 'bench/so', 'latest');
  await wrk(`${base(t)}/v2/bench/so/manifests/latest`, t.cluster.authorization).catch(() => undefined); // warm-up
  const w = await wrk(`${base(t)}/v2/bench/so/manifests/latest`, t.cluster.authorization);
  const blob = randomBytes(BLOB_MIB * 1024 * 1024);
  let t0 = performance.now();
  const digest = await pushBlob(t, 'bench/so', blob);
  const pushMiBs = BLOB_MIB / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const got = await req(t, `/v2/bench/so/blobs/${digest}`);
  const bytes = (await got.arrayBuffer()).byteLength;
  if (bytes !== blob.length) throw new Error(`pulled ${bytes} of ${blob.length} bytes`);
  const pullMiBs = BLOB_MIB / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < IMAGES) await pushImage(t, 'bench/so', `img-${next++}`);
  }));
  const imagesPerSec = IMAGES / ((performance.now() - t0) / 1000);
  return { manifestRps: w.rps, p99Ms: w.p99Ms, pushMiBs, pullMiBs, imagesPerSec };
}

async function run(label: string, nodes: number, kind: ClusterKind, viaBalancer: boolean): Promise<[string, Row | string]> {
  log(`${label}: starting ${nodes} node(s) on ${kind}…`);
  let cluster: Cluster | undefined;
  try {
    cluster = await Cluster.start({ nodes, kind, env: { BERTH_LOG_LEVEL: 'error' } });
    return [label, await measure({ cluster, ...(viaBalancer ? {} : { node: cluster.nodes[0]! }) })];
  } catch (err) {
    return [label, `unavailable: ${(err as Error).message.split('\n')[0]}`];
  } finally {
    await cluster?.dispose();
  }
}

const shared = clusterKind();
const rows: [string, Row | string][] = [];
rows.push(await run('A  1 node, SQLite + disk', 1, 'sqlite', false));
rows.push(shared === 'postgres+s3'
  ? await run('B  1 node, PostgreSQL + RGW', 1, 'postgres+s3', false)
  : ['B  1 node, PostgreSQL + RGW', 'skipped: BERTH_E2E_POSTGRES_URL / BERTH_E2E_S3_ENDPOINT not set']);
rows.push(await run(`C  3 nodes + HAProxy (${shared})`, 3, shared, true));

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const out = [
  `scale-out bench: wrk ${SECONDS}s -c32, blob ${BLOB_MIB} MiB, ${IMAGES} images × 3 × 256 KiB, 4 clients`,
  `${'setup'.padEnd(40)} ${'manifest GET req/s'.padStart(19)} ${'p99 ms'.padStart(8)} ${'push MiB/s'.padStart(11)} ${'pull MiB/s'.padStart(11)} ${'images/s'.padStart(9)}`,
  ...rows.map(([label, r]) => typeof r === 'string'
    ? `${label.padEnd(40)} ${r}`
    : `${label.padEnd(40)} ${f(r.manifestRps, 0).padStart(19)} ${f(r.p99Ms).padStart(8)} ${f(r.pushMiBs).padStart(11)} ${f(r.pullMiBs).padStart(11)} ${f(r.imagesPerSec).padStart(9)}`),
];
process.stdout.write(`${out.join('\n')}\n`);
