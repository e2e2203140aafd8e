// Blob push / pull throughput of one berth node on the local disk (storage.blob: fs) beside one on
// S3-compatible storage (storage.blob: s3, Ceph RGW here), and S3 with storage.redirect (the pull
// follows the 307 to a presigned S3 URL). Same machine, same blob, BENCH_ROUNDS rounds each
// (median printed). Pushes are monolithic (POST + PUT ?digest=) and chunked (PATCHes of
// BENCH_CHUNK_MIB, the way docker/containerd send large layers).
//
//   BERTH_E2E_S3_ENDPOINT=http://127.0.0.1:7480 BERTH_E2E_S3_ACCESS_KEY=… BERTH_E2E_S3_SECRET_KEY=… \
//     npm run bench:blob-s3
//
// A fresh bucket is created for the run and deleted afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlobSource, type BlobSource } from './blob-source.js';
import { drain, keepAliveAgent, open, request, header } from './http-client.js';
import { stopAll, stopChild } from './procs.js';
import { RegistryClient } from './registry-client.js';
import { median, fmt } from './report.js';
import { prepareBerth, startBerth, type Server } from './servers.js';
import { deleteTestBucket } from '../test/support/s3-buckets.js';

const MiB = 1024 * 1024;
const quick = process.env['BENCH_QUICK'] === '1';
const rounds = Number(process.env['BENCH_ROUNDS'] ?? (quick ? 1 : 3));
const blobMiB = Number(process.env['BENCH_BLOB_MIB'] ?? (quick ? 16 : 256));
const chunkMiB = Number(process.env['BENCH_CHUNK_MIB'] ?? 10);
const endpoint = process.env['BERTH_E2E_S3_ENDPOINT'];
if (!endpoint) {
  console.error('bench/blob-s3: set BERTH_E2E_S3_ENDPOINT (+ _ACCESS_KEY, _SECRET_KEY, _REGION) to an S3-compatible server');
  process.exit(2);
}
const bucket = {
  endpoint, region: process.env['BERTH_E2E_S3_REGION'] ?? 'us-east-1',
  accessKeyId: process.env['BERTH_E2E_S3_ACCESS_KEY'] ?? '', secretAccessKey: process.env['BERTH_E2E_S3_SECRET_KEY'] ?? '',
  bucket: `berth-bench-${randomBytes(5).toString('hex')}`,
};

type Case = { label: string; env: Record<string, string> };
const s3Env = {
  BERTH_STORAGE_BLOB: 's3', BERTH_S3_ENDPOINT: bucket.endpoint, BERTH_S3_BUCKET: bucket.bucket, BERTH_S3_REGION: bucket.region,
  BERTH_S3_ACCESS_KEY_ID: bucket.accessKeyId, BERTH_S3_SECRET_ACCESS_KEY: bucket.secretAccessKey,
};
const cases: Case[] = [
  { label: 'fs (data dir)', env: { BERTH_STORAGE_BLOB: 'fs' } },
  { label: 's3 (RGW), proxied', env: { ...s3Env, BERTH_STORAGE_REDIRECT: 'false' } },
  { label: 's3 (RGW), redirect', env: { ...s3Env, BERTH_STORAGE_REDIRECT: 'true' } },
];

/** Chunked upload: POST, then PATCHes of `chunk` bytes read from the source, then PUT ?digest=. */
async function pushChunked(server: Server, agent: http.Agent, repo: string, source: BlobSource, digest: string, stream: () => NodeJS.ReadableStream): Promise<void> {
  const auth: Record<string, string> = server.authorization ? { Authorization: server.authorization } : {};
  await server.ensureRepository?.(repo);
  let res = await request(new URL(`/v2/${repo}/blobs/uploads/`, server.base), { method: 'POST', agent, headers: { ...auth, 'Content-Length': 0 } });
  let location = header(res, 'location') ?? '';
  const chunk = chunkMiB * MiB;
  let pending: Buffer[] = [];
  let have = 0;
  let sent = 0;
  const flush = async () => {
    const body = Buffer.concat(pending, have);
    pending = [];
    have = 0;
    res = await request(new URL(location, server.base), {
      method: 'PATCH', agent, body,
      headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': body.length, 'Content-Range': `${sent}-${sent + body.length - 1}` },
    });
    if (res.status !== 202) throw new Error(`PATCH: HTTP ${res.status} ${res.body.toString().slice(0, 200)}`);
    sent += body.length;
    location = header(res, 'location') ?? location;
  };
  for await (const c of stream()) {
    const b = c as Buffer;
    pending.push(b);
    have += b.length;
    if (have >= chunk) await flush();
  }
  if (have > 0) await flush();
  const put = new URL(location, server.base);
  put.searchParams.set('digest', digest);
  res = await request(put, { method: 'PUT', agent, headers: { ...auth, 'Content-Length': 0 } });
  if (res.status !== 201 || sent !== source.size) throw new Error(`PUT: HTTP ${res.status} ${res.body.toString().slice(0, 200)}`);
}

/** GET the blob, following one redirect (to S3) the way registry clients do; returns bytes read. */
async function pull(server: Server, agent: http.Agent, repo: string, digest: string): Promise<number> {
  const auth: Record<string, string> = server.authorization ? { Authorization: server.authorization } : {};
  const res = await open(new URL(`/v2/${repo}/blobs/${digest}`, server.base), { agent, headers: auth });
  if (res.statusCode === 307) {
    res.resume();
    const direct = await open(new URL(res.headers.location ?? ''), { agent: new http.Agent() });
    return drain(direct);
  }
  if (res.statusCode !== 200) throw new Error(`GET blob: HTTP ${res.statusCode ?? 0}`);
  return drain(res);
}

const secs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'berth-bench-s3-'));
  const launch = prepareBerth((process.env['BENCH_BERTH'] as 'auto' | 'dist' | 'tsx' | undefined) ?? 'tsx');
  const source = await createBlobSource(workDir, blobMiB);
  const rows: string[] = [];
  try {
    for (const c of cases) {
      const saved = { ...process.env };
      Object.assign(process.env, c.env);
      const server = await startBerth(launch, join(workDir, c.label.replace(/\W+/g, '-')));
      process.env = saved;
      const agent = keepAliveAgent(1);
      const client = new RegistryClient(server, agent);
      const mono: number[] = [];
      const chunked: number[] = [];
      const pulls: number[] = [];
      try {
        for (let r = 0; r < rounds; r++) {
          let b = source.next();
          let t0 = process.hrtime.bigint();
          await client.pushBlob('bench/s3', b.digest, source.size, b.stream());
          mono.push(source.size / MiB / secs(t0));
          b = source.next();
          t0 = process.hrtime.bigint();
          await pushChunked(server, agent, 'bench/s3', source, b.digest, b.stream);
          chunked.push(source.size / MiB / secs(t0));
          t0 = process.hrtime.bigint();
          const bytes = await pull(server, agent, 'bench/s3', b.digest);
          if (bytes !== source.size) throw new Error(`pulled ${bytes} of ${source.size} bytes`);
          pulls.push(bytes / MiB / secs(t0));
        }
      } finally {
        agent.destroy();
        await stopChild(server.child);
      }
      rows.push(`| ${c.label.padEnd(20)} | ${fmt(median(mono)).padStart(8)} | ${fmt(median(chunked)).padStart(8)} | ${fmt(median(pulls)).padStart(8)} |`);
    }
  } finally {
    await stopAll();
    await deleteTestBucket(bucket).catch((e: unknown) => console.error(`could not delete bucket ${bucket.bucket}: ${String(e)}`));
    rmSync(workDir, { recursive: true, force: true });
  }
  console.log(`\nblob throughput, one berth node (${launch.note}, BENCH_BERTH_WORKERS=${process.env['BENCH_BERTH_WORKERS'] ?? 'auto'}), ` +
    `${blobMiB} MiB blob, ${rounds} round(s), median MiB/s; chunked = PATCHes of ${chunkMiB} MiB; S3 = ${endpoint}\n`);
  console.log('| blob store           | push mono | push chunked | pull |');
  console.log('|----------------------|----------:|-------------:|-----:|');
  for (const r of rows) console.log(r);
}

process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
await main();
