/**
 * Public registry and console figures (issue 7), in-process on the memory backends:
 *
 *   node --import tsx bench/public.ts        (BENCH_PUBLIC_REPOS, BENCH_PUBLIC_TAGS, BENCH_WRK_SECONDS)
 *
 * 1. Gallery search over 10,000 public repositories and a repository page with 1,000 tags: server
 *    time of `GET /ui/…` measured with fastify inject (no socket), median and p95 of 50 requests,
 *    against the 50 ms target.
 * 2. Manifest GET of a public repository, anonymous (Bearer token from /token) vs logged in
 *    (Basic AWS:<token>), with wrk over a real socket, side by side; target: anonymous within 10 %.
 *    The anonymous pull limit is lifted for the run (it would otherwise answer 429s, by design).
 */
import { randomBytes, createHash } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { createApp } from '../src/app.js';
import { validateConfig } from '../src/config/load.js';
import type { Digest } from '../src/core/digest.js';
import { repoKey } from '../src/core/repo-key.js';

const REPOS = Number(process.env.BENCH_PUBLIC_REPOS ?? 10_000);
const TAGS = Number(process.env.BENCH_PUBLIC_TAGS ?? 1000);
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 5);
const signal = AbortSignal.timeout(30 * 60_000);
const words = ['web', 'proxy', 'database', 'cache', 'queue', 'metrics', 'logging', 'auth', 'search', 'build'];
const archs = ['x86-64', 'ARM 64', 'ARM', 'x86'];

const config = validateConfig({
  storage: { meta: 'memory', blob: 'memory' }, log: { level: 'silent' },
  public: { alias: 'bench', anonymousPullsPerSecond: 1e9, anonymousPullBurst: 1e9, authenticatedPullsPerSecond: 1e9, authenticatedPullBurst: 1e9 },
});
const app = await createApp(config, { logger: pino({ level: 'silent' }), env: {} });

process.stdout.write(`seeding ${REPOS} public repositories and ${TAGS} tags…\n`);
for (let i = 0; i < REPOS; i++) {
  const w = words[i % words.length]!;
  await app.publicRepos.create('000000000000', `${w}-${i}`, {
    description: `A ${w} service number ${i} for ${words[(i * 7) % words.length]} workloads`,
    architectures: [archs[i % archs.length]!], operatingSystems: ['Linux'], aboutText: `# ${w}\n\nAbout ${i}.`,
  }, [], signal);
}
const repo = repoKey(config.accountId, 'bench/web-0');
const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [], nonce: randomBytes(8).toString('hex') }));
const digest = `sha256:${createHash('sha256').update(body).digest('hex')}` as Digest;
for (let t = 0; t < TAGS; t++) {
  await app.meta.putManifest({ repository: repo, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', body, imageSize: 1234, blobs: [], manifests: [], tag: `v${t}` }, signal);
}

async function serverTime(path: string, n = 50): Promise<{ median: number; p95: number; status: number; bytes: number }> {
  const times: number[] = [];
  let status = 0;
  let bytes = 0;
  for (let i = 0; i < n + 5; i++) {
    const t0 = process.hrtime.bigint();
    const res = await app.server.inject({ method: 'GET', url: path });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 5) times.push(ms);
    status = res.statusCode;
    bytes = res.rawPayload.length;
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(n / 2)]!, p95: times[Math.floor(n * 0.95)]!, status, bytes };
}

const rows: [string, Awaited<ReturnType<typeof serverTime>>][] = [
  [`gallery, first page of ${REPOS}`, await serverTime('/ui/')],
  ['gallery search "proxy workloads"', await serverTime('/ui/?q=proxy+workloads')],
  ['gallery search + arch=ARM 64 + os=Linux', await serverTime('/ui/?q=cache&arch=ARM+64&os=Linux')],
  ['gallery search, no match', await serverTime('/ui/?q=zzzz-nothing')],
  [`repository page with ${TAGS} tags`, await serverTime(`/ui/r/${repo}`)],
];
process.stdout.write('\nserver time (fastify inject, 50 requests after 5 warm-up)       median     p95   target  status  bytes\n');
for (const [name, r] of rows) {
  process.stdout.write(`  ${name.padEnd(58)} ${r.median.toFixed(2).padStart(7)} ms ${r.p95.toFixed(2).padStart(7)} ms  < 50 ms  ${r.status}  ${r.bytes}\n`);
}

// ---- anonymous vs authenticated manifest GET over a socket -------------------------------------
await app.server.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.server.address();
const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
const ecr = new ECRClient({ endpoint: base, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: app.rootCredentials.accessKeyId, secretAccessKey: app.rootCredentials.secretAccessKey } });
const login = Buffer.from((await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!, 'base64').toString('utf8');
ecr.destroy();
const anonToken = ((await (await fetch(`${base}/token?scope=repository:${repo}:pull`)).json()) as { token: string }).token;
const accept = 'application/vnd.oci.image.manifest.v1+json';
/** wrk as a child process, asynchronously: the server under test runs in this very process. */
async function wrk(auth: string): Promise<number> {
  const r = await promisify(execFile)('wrk', ['-t2', '-c32', `-d${WRK_SECONDS}s`, '-H', `Accept: ${accept}`, '-H', `Authorization: ${auth}`, `${base}/v2/${repo}/manifests/v0`], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  if (/Non-2xx/.test(r.stdout) || !(rps > 0)) throw new Error(`wrk failed:\n${r.stdout}\n${r.stderr}`);
  return rps;
}
if (spawnSync('wrk', ['--version']).error) {
  process.stdout.write('\nwrk is not installed: manifest GET comparison skipped (apt-get install wrk)\n');
} else {
  await wrk(`Bearer ${anonToken}`); // warm-up
  const anon: number[] = [];
  const authed: number[] = [];
  for (let round = 0; round < 3; round++) {
    anon.push(await wrk(`Bearer ${anonToken}`));
    authed.push(await wrk(`Basic ${Buffer.from(login).toString('base64')}`));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  process.stdout.write(`\nmanifest GET of a public repository (wrk -t2 -c32 -d${WRK_SECONDS}s, median of 3 interleaved rounds, one process)\n`);
  process.stdout.write(`  anonymous (Bearer from /token)   ${med(anon).toFixed(0).padStart(8)} req/s\n`);
  process.stdout.write(`  logged in (Basic AWS:<token>)    ${med(authed).toFixed(0).padStart(8)} req/s\n`);
  process.stdout.write(`  anonymous / logged in            ${(med(anon) / med(authed)).toFixed(3)}   (target ≥ 0.90)\n`);
}
await app.close();
