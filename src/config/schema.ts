import { z } from 'zod';

const listen = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, { message: 'must be HOST:PORT', abort: true })
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

const publicUrl = z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be http(s)://HOST[:PORT] with no path');

/*
 * Every field carries a `.describe()` text: docs/configuration.md is generated from this schema
 * (`npm run docs`), and a test fails when that file is not current. The `env` and `flag` names live
 * in ENV (load.ts) and the CLI; the generator reads them from there too.
 */
const accountId = z.string().regex(/^\d{12}$/, 'must be 12 digits');

/** The whole configuration. Every field has a default, so an empty file is valid. */
export const configSchema = z.object({
  listen: listen.default('127.0.0.1:5000').describe('Address the one listener binds, HOST:PORT.'),
  accountId: z.string().regex(/^\d{12}$/, 'must be 12 digits').default('000000000000')
    .describe('The default account (ECR registry id) that owns repositories and the root credentials.'),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1').default('us-east-1')
    .describe('The region berth answers as (SigV4 credential scope, ARNs).'),
  dataDir: z.string().min(1).default('./data').describe('Where the embedded backends keep their files (SQLite database, blobs, keys).'),
  publicUrl: publicUrl.optional()
    .describe('Scheme and host clients reach berth at (e.g. https://registry.example.com). Used for repositoryUri, proxyEndpoint and presigned URLs. Unset: taken from each request (Host, or X-Forwarded-Proto/Host when trustProxy is on).'),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Lowest level written.'),
    format: z.enum(['auto', 'json', 'pretty']).default('auto')
      .describe('auto: human-readable lines when stdout is a terminal, JSON lines otherwise. JSON lines are flushed at least every 250 ms.'),
  }).strict().default({ level: 'info', format: 'auto' }),
  tls: z.object({
    certFile: z.string().min(1).optional().describe('PEM certificate chain (server certificate first). With keyFile, berth serves HTTPS only. Re-read on SIGHUP.'),
    keyFile: z.string().min(1).optional().describe('PEM private key of the certificate. Re-read on SIGHUP.'),
  }).strict().default({}).refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), 'set both certFile and keyFile, or neither'),
  storage: z.object({
    meta: z.enum(['sqlite', 'postgres', 'memory']).default('sqlite')
      .describe('Metadata backend: sqlite (embedded, one machine), postgres (scale-out: every node on one database, see docs/scale-out.md), memory (loses everything on exit; tests).'),
    blob: z.enum(['fs', 's3', 'memory']).default('fs')
      .describe('Blob backend: fs (the data directory), s3 (S3-compatible object storage shared by every node), memory (loses everything on exit; tests).'),
    redirect: z.boolean().default(false)
      .describe('With the s3 blob backend: blob GETs of repositories encrypted with AES256 (the default) are answered by a 307 redirect to a presigned S3 URL, and GetDownloadUrlForLayer returns presigned S3 URLs. Their blobs are then stored as plain objects, encrypted at rest by the object store (s3.serverSideEncryption) instead of by berth; KMS repositories keep berth\'s encryption and are served by berth. See docs/s3-storage.md.'),
  }).strict().default({ meta: 'sqlite', blob: 'fs', redirect: false }),
  postgres: z.object({
    url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional()
      .describe('Connection URL of the PostgreSQL database (storage.meta: postgres), e.g. postgres://berth:secret@db:5432/berth. Never logged.'),
    poolSize: z.number().int().min(1).max(1000).default(10).describe('Connections each process keeps in its pool.'),
  }).strict().default({ poolSize: 10 }),
  s3: z.object({
    endpoint: z.string().regex(/^https?:\/\//, 'must be an http(s):// URL').optional()
      .describe('S3 endpoint URL (storage.blob: s3); unset: AWS S3 for the region.'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name').optional()
      .describe('Bucket holding blobs and staged uploads; created when missing.'),
    region: z.string().min(1).default('us-east-1').describe('Region of the bucket (SigV4 scope).'),
    accessKeyId: z.string().min(1).optional().describe('Access key; unset: the default AWS credential chain.'),
    secretAccessKey: z.string().min(1).optional().describe('Secret key for accessKeyId. Never logged.'),
    prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or end with /').default('')
      .describe('Key prefix every object of this registry is stored under (e.g. berth/).'),
    forcePathStyle: z.boolean().default(true).describe('Path-style addressing (endpoint/bucket/key), which Ceph RGW and MinIO need.'),
    serverSideEncryption: z.enum(['none', 'AES256', 'aws:kms']).default('none')
      .describe('Server-side encryption berth asks the object store for on every object it writes: AES256 (SSE-S3), aws:kms (SSE-KMS), or none (send no header: the bucket\'s default encryption applies — on AWS S3 every new object is SSE-S3-encrypted by default; Ceph RGW and MinIO refuse SSE headers unless their own key backend is set up). With storage.redirect, blobs of AES256 repositories are encrypted at rest by this, not by berth: see docs/s3-storage.md.'),
    sseKmsKeyId: z.string().min(1).optional().describe('With serverSideEncryption aws:kms: the KMS key (id or ARN) of the object store; unset: the bucket\'s default KMS key.'),
  }).strict().default({ region: 'us-east-1', prefix: '', forcePathStyle: true, serverSideEncryption: 'none' }),
  limits: z.object({
    maxBlobBytes: z.number().int().positive().default(50 * 1024 ** 3).describe('Largest blob one upload may carry, in bytes.'),
    maxPageSize: z.number().int().min(1).max(100_000).default(1000).describe('Largest page a list endpoint returns (`n` is clamped to it).'),
  }).strict().default({ maxBlobBytes: 50 * 1024 ** 3, maxPageSize: 1000 }),
  timeouts: z.object({
    headersSeconds: z.number().int().min(1).max(3600).default(30).describe('A request\'s headers must arrive within this many seconds of the connection sending its first byte.'),
    idleSeconds: z.number().int().min(1).max(3600).default(60)
      .describe('A connection with a request in progress (e.g. an upload body) that sends or receives nothing for this long is closed. Bounds slow-body clients without capping large uploads.'),
    keepAliveSeconds: z.number().int().min(1).max(3600).default(75).describe('An idle keep-alive connection is closed after this long.'),
  }).strict().default({ headersSeconds: 30, idleSeconds: 60, keepAliveSeconds: 75 }),
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto')
    .describe('Worker processes serving the listener; auto = one per CPU. Each is a full node of the scale-out design on the shared stores. With more than one, the process you start listens, answers the first requests itself while its workers start, then hands every new connection to a worker in turn and replaces any worker that dies.'),
  shutdownGraceSeconds: z.number().int().min(0).max(3600).default(30)
    .describe('On SIGTERM, seconds in-flight requests (uploads) get to finish before their connections are cut. Idle connections close at once.'),
  accountHosts: z.object({
    pattern: z.string().min(1).max(253)
      .refine((p) => p.includes('{account}') && (!p.includes('{host}') || p.indexOf('{account}') < p.indexOf('{host}')), 'must contain {account} (before {host})')
      .default('{account}.{host}')
      .describe('An account\'s registry host (no port): {account} (required, first), {region}, and {host} (the host clients reach berth on). The bare host is the default account\'s. See docs/accounts.md.'),
    map: z.record(z.string().min(1).max(253), accountId).default({}).describe('Explicit host → account mappings, besides the pattern.'),
  }).strict().default({ pattern: '{account}.{host}', map: {} }),
  kms: z.object({
    externalKeyArn: z.string().min(1).optional()
      .describe('ARN of a key in an external AWS KMS that seals the built-in key service\'s key material instead of the master key (credentials from the AWS SDK\'s default chain). See docs/encryption.md.'),
    externalRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1').optional()
      .describe('Region of the external KMS; unset: berth\'s own region.'),
    externalEndpoint: z.string().url().optional()
      .describe('Endpoint of a KMS-compatible service to use instead of AWS\'s (e.g. a private endpoint, or another berth in tests).'),
  }).strict().default({}).describe('The built-in key service (KMS API) and blob encryption at rest.'),
  public: z.object({
    alias: z.string().regex(/^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'must match [a-z][a-z0-9]+([._-][a-z0-9]+)*').min(2).max(50).optional()
      .describe('Alias of the default account\'s ECR Public registry (`<host>/<alias>/<name>`); default: derived from the account id. Other accounts get theirs from `berth account create --alias`. See docs/public.md.'),
    anonymousPullsPerSecond: z.number().positive().default(1).describe('Anonymous pulls (manifest GETs) of public repositories per second per client address.'),
    anonymousPullBurst: z.number().int().min(1).default(20).describe('Anonymous pulls a client address may make at once before the per-second rate applies (then 429 with Retry-After).'),
    authenticatedPullsPerSecond: z.number().positive().default(10).describe('Logged-in pulls of public repositories per second per principal.'),
    authenticatedPullBurst: z.number().int().min(1).default(200).describe('Logged-in pulls of public repositories a principal may make at once before the per-second rate applies.'),
  }).strict().default({ anonymousPullsPerSecond: 1, anonymousPullBurst: 20, authenticatedPullsPerSecond: 10, authenticatedPullBurst: 200 })
    .describe('ECR Public: the default account\'s registry alias and the pull rate limits of public repositories.'),
  trustProxy: z.boolean().default(false).describe('Trust X-Forwarded-For/-Proto/-Host from a reverse proxy in front.'),
  lifecycle: z.object({
    intervalMinutes: z.number().min(0).max(7 * 24 * 60).default(60)
      .describe('Minutes between scheduled runs of every repository\'s lifecycle policy in each node (0 = only `berth lifecycle run`). See docs/lifecycle.md.'),
  }).strict().default({ intervalMinutes: 60 }),
  gc: z.object({
    intervalMinutes: z.number().min(0).max(7 * 24 * 60).default(60)
      .describe('Minutes between scheduled online garbage collections of unreferenced blobs and abandoned uploads (0 = only `berth gc`). See docs/gc.md.'),
    graceSeconds: z.number().min(0).max(30 * 24 * 3600).default(3600)
      .describe('A blob link or blob unreferenced for less than this many seconds is kept (pushes in flight reference it soon).'),
    uploadMaxAgeHours: z.number().min(0).max(30 * 24).default(24)
      .describe('Upload sessions idle for longer than this many hours are swept with their staged bytes.'),
  }).strict().default({ intervalMinutes: 60, graceSeconds: 3600, uploadMaxAgeHours: 24 }),
}).strict().superRefine((c, ctx) => {
  if (c.storage.meta === 'postgres' && c.postgres.url === undefined) {
    ctx.addIssue({ code: 'custom', path: ['postgres', 'url'], message: 'is required when storage.meta is postgres (BERTH_POSTGRES_URL)' });
  }
  if (c.storage.blob === 's3' && c.s3.bucket === undefined) {
    ctx.addIssue({ code: 'custom', path: ['s3', 'bucket'], message: 'is required when storage.blob is s3 (BERTH_S3_BUCKET)' });
  }
  if (c.s3.sseKmsKeyId !== undefined && c.s3.serverSideEncryption !== 'aws:kms') {
    ctx.addIssue({ code: 'custom', path: ['s3', 'sseKmsKeyId'], message: 'needs s3.serverSideEncryption: aws:kms' });
  }
  if (c.storage.redirect && c.storage.blob !== 's3') {
    ctx.addIssue({ code: 'custom', path: ['storage', 'redirect'], message: 'needs storage.blob: s3' });
  }
});

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;
