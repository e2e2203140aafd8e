import * as z from 'zod/mini';

// zod/mini (functional checks, no per-instance methods) rather than zod's classic API: building this
// schema and loading zod run at every start, and the classic API costs ~3× as much of both
// (issue 12). Mini has no messages of its own until a locale is loaded; these are zod's English ones.
z.config(z.locales.en());

/** A text for docs/configuration.md: what classic zod's `.describe()` does. */
const about = <T extends z.ZodMiniType>(schema: T, description: string): T => {
  z.globalRegistry.add(schema as z.ZodMiniType, { description });
  return schema;
};
const str = (...checks: z.core.$ZodCheck<string>[]) => z.string().check(...checks);
const int = (...checks: z.core.$ZodCheck<number>[]) => z.int().check(...checks);
const num = (...checks: z.core.$ZodCheck<number>[]) => z.number().check(...checks);

const listen = str(z.regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, { message: 'must be HOST:PORT', abort: true }),
  z.refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535'));

const publicUrl = str(z.regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be http(s)://HOST[:PORT] with no path'));

/*
 * Every field carries an `about()` text: docs/configuration.md is generated from this schema
 * (`npm run docs`), and a test fails when that file is not current. The `env` and `flag` names live
 * in ENV (load.ts) and the CLI; the generator reads them from there too.
 */
const accountId = str(z.regex(/^\d{12}$/, 'must be 12 digits'));

/** The whole configuration. Every field has a default, so an empty file is valid. */
export const configSchema = z.strictObject({
  listen: about(z._default(listen, '127.0.0.1:5000'), 'Address the one listener binds, HOST:PORT.'),
  accountId: about(z._default(str(z.regex(/^\d{12}$/, 'must be 12 digits')), '000000000000'),
    'The default account (ECR registry id) that owns repositories and the root credentials.'),
  region: about(z._default(str(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1')), 'us-east-1'),
    'The region berth answers as (SigV4 credential scope, ARNs).'),
  dataDir: about(z._default(str(z.minLength(1)), './data'), 'Where the embedded backends keep their files (SQLite database, blobs, keys).'),
  publicUrl: about(z.optional(publicUrl),
    'Scheme and host clients reach berth at (e.g. https://registry.example.com). Used for repositoryUri, proxyEndpoint and presigned URLs. Unset: taken from each request (Host, or X-Forwarded-Proto/Host when trustProxy is on).'),
  log: z._default(z.strictObject({
    level: about(z._default(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'), 'Lowest level written.'),
    format: about(z._default(z.enum(['auto', 'json', 'pretty']), 'auto'),
      'auto: human-readable lines when stdout is a terminal, JSON lines otherwise. JSON lines are flushed at least every 250 ms.'),
  }), { level: 'info', format: 'auto' }),
  tls: z._default(z.strictObject({
    certFile: about(z.optional(str(z.minLength(1))), 'PEM certificate chain (server certificate first). With keyFile, berth serves HTTPS only. Re-read on SIGHUP.'),
    keyFile: about(z.optional(str(z.minLength(1))), 'PEM private key of the certificate. Re-read on SIGHUP.'),
  }), {}).check(z.refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), 'set both certFile and keyFile, or neither')),
  storage: z._default(z.strictObject({
    meta: about(z._default(z.enum(['sqlite', 'postgres', 'memory']), 'sqlite'),
      'Metadata backend: sqlite (embedded, one machine), postgres (scale-out: every node on one database, see docs/scale-out.md), memory (loses everything on exit; tests).'),
    blob: about(z._default(z.enum(['fs', 's3', 'memory']), 'fs'),
      'Blob backend: fs (the data directory), s3 (S3-compatible object storage shared by every node), memory (loses everything on exit; tests).'),
    redirect: about(z._default(z.boolean(), false),
      'With the s3 blob backend: blob GETs of repositories encrypted with AES256 (the default) are answered by a 307 redirect to a presigned S3 URL, and GetDownloadUrlForLayer returns presigned S3 URLs. Their blobs are then stored as plain objects, encrypted at rest by the object store (s3.serverSideEncryption) instead of by berth; KMS repositories keep berth\'s encryption and are served by berth. See docs/s3-storage.md.'),
  }), { meta: 'sqlite', blob: 'fs', redirect: false }),
  postgres: z._default(z.strictObject({
    url: about(z.optional(str(z.regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'))),
      'Connection URL of the PostgreSQL database (storage.meta: postgres), e.g. postgres://berth:secret@db:5432/berth. Never logged.'),
    poolSize: about(z._default(int(z.minimum(1), z.maximum(1000)), 10), 'Connections each process keeps in its pool.'),
  }), { poolSize: 10 }),
  s3: z._default(z.strictObject({
    endpoint: about(z.optional(str(z.regex(/^https?:\/\//, 'must be an http(s):// URL'))),
      'S3 endpoint URL (storage.blob: s3); unset: AWS S3 for the region.'),
    bucket: about(z.optional(str(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name'))),
      'Bucket holding blobs and staged uploads; created when missing.'),
    region: about(z._default(str(z.minLength(1)), 'us-east-1'), 'Region of the bucket (SigV4 scope).'),
    accessKeyId: about(z.optional(str(z.minLength(1))), 'Access key; unset: the default AWS credential chain.'),
    secretAccessKey: about(z.optional(str(z.minLength(1))), 'Secret key for accessKeyId. Never logged.'),
    prefix: about(z._default(str(z.regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or end with /')), ''),
      'Key prefix every object of this registry is stored under (e.g. berth/).'),
    forcePathStyle: about(z._default(z.boolean(), true), 'Path-style addressing (endpoint/bucket/key), which Ceph RGW and MinIO need.'),
    serverSideEncryption: about(z._default(z.enum(['none', 'AES256', 'aws:kms']), 'none'),
      'Server-side encryption berth asks the object store for on every object it writes: AES256 (SSE-S3), aws:kms (SSE-KMS), or none (send no header: the bucket\'s default encryption applies — on AWS S3 every new object is SSE-S3-encrypted by default; Ceph RGW and MinIO refuse SSE headers unless their own key backend is set up). With storage.redirect, blobs of AES256 repositories are encrypted at rest by this, not by berth: see docs/s3-storage.md.'),
    sseKmsKeyId: about(z.optional(str(z.minLength(1))), 'With serverSideEncryption aws:kms: the KMS key (id or ARN) of the object store; unset: the bucket\'s default KMS key.'),
  }), { region: 'us-east-1', prefix: '', forcePathStyle: true, serverSideEncryption: 'none' }),
  limits: z._default(z.strictObject({
    maxBlobBytes: about(z._default(int(z.positive()), 50 * 1024 ** 3), 'Largest blob one upload may carry, in bytes.'),
    maxPageSize: about(z._default(int(z.minimum(1), z.maximum(100_000)), 1000), 'Largest page a list endpoint returns (`n` is clamped to it).'),
  }), { maxBlobBytes: 50 * 1024 ** 3, maxPageSize: 1000 }),
  timeouts: z._default(z.strictObject({
    headersSeconds: about(z._default(int(z.minimum(1), z.maximum(3600)), 30), 'A request\'s headers must arrive within this many seconds of the connection sending its first byte.'),
    idleSeconds: about(z._default(int(z.minimum(1), z.maximum(3600)), 60),
      'A connection with a request in progress (e.g. an upload body) that sends or receives nothing for this long is closed. Bounds slow-body clients without capping large uploads.'),
    keepAliveSeconds: about(z._default(int(z.minimum(1), z.maximum(3600)), 75), 'An idle keep-alive connection is closed after this long.'),
  }), { headersSeconds: 30, idleSeconds: 60, keepAliveSeconds: 75 }),
  workers: about(z._default(z.union([z.literal('auto'), int(z.minimum(1), z.maximum(64))]), 'auto'),
    'Worker processes serving the listener; auto = one per CPU. Each is a full node of the scale-out design on the shared stores. With more than one, the process you start listens, answers the first requests itself while its workers start, then hands every new connection to a worker in turn and replaces any worker that dies.'),
  shutdownGraceSeconds: about(z._default(int(z.minimum(0), z.maximum(3600)), 30),
    'On SIGTERM, seconds in-flight requests (uploads) get to finish before their connections are cut. Idle connections close at once.'),
  accountHosts: z._default(z.strictObject({
    pattern: about(z._default(str(z.minLength(1), z.maxLength(253),
      z.refine((p) => p.includes('{account}') && (!p.includes('{host}') || p.indexOf('{account}') < p.indexOf('{host}')), 'must contain {account} (before {host})')),
    '{account}.{host}'),
    'An account\'s registry host (no port): {account} (required, first), {region}, and {host} (the host clients reach berth on). The bare host is the default account\'s. See docs/accounts.md.'),
    map: about(z._default(z.record(str(z.minLength(1), z.maxLength(253)), accountId), {}), 'Explicit host → account mappings, besides the pattern.'),
  }), { pattern: '{account}.{host}', map: {} }),
  kms: about(z._default(z.strictObject({
    externalKeyArn: about(z.optional(str(z.minLength(1))),
      'ARN of a key in an external AWS KMS that seals the built-in key service\'s key material instead of the master key (credentials from the AWS SDK\'s default chain). See docs/encryption.md.'),
    externalRegion: about(z.optional(str(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1'))),
      'Region of the external KMS; unset: berth\'s own region.'),
    externalEndpoint: about(z.optional(z.url()),
      'Endpoint of a KMS-compatible service to use instead of AWS\'s (e.g. a private endpoint, or another berth in tests).'),
  }), {}), 'The built-in key service (KMS API) and blob encryption at rest.'),
  public: about(z._default(z.strictObject({
    alias: about(z.optional(str(z.regex(/^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'must match [a-z][a-z0-9]+([._-][a-z0-9]+)*'), z.minLength(2), z.maxLength(50))),
      'Alias of the default account\'s ECR Public registry (`<host>/<alias>/<name>`); default: derived from the account id. Other accounts get theirs from `berth account create --alias`. See docs/public.md.'),
    anonymousPullsPerSecond: about(z._default(num(z.positive()), 1), 'Anonymous pulls (manifest GETs) of public repositories per second per client address.'),
    anonymousPullBurst: about(z._default(int(z.minimum(1)), 20), 'Anonymous pulls a client address may make at once before the per-second rate applies (then 429 with Retry-After).'),
    authenticatedPullsPerSecond: about(z._default(num(z.positive()), 10), 'Logged-in pulls of public repositories per second per principal.'),
    authenticatedPullBurst: about(z._default(int(z.minimum(1)), 200), 'Logged-in pulls of public repositories a principal may make at once before the per-second rate applies.'),
  }), { anonymousPullsPerSecond: 1, anonymousPullBurst: 20, authenticatedPullsPerSecond: 10, authenticatedPullBurst: 200 }),
  'ECR Public: the default account\'s registry alias and the pull rate limits of public repositories.'),
  trustProxy: about(z._default(z.boolean(), false), 'Trust X-Forwarded-For/-Proto/-Host from a reverse proxy in front.'),
  lifecycle: z._default(z.strictObject({
    intervalMinutes: about(z._default(num(z.minimum(0), z.maximum(7 * 24 * 60)), 60),
      'Minutes between scheduled runs of every repository\'s lifecycle policy in each node (0 = only `berth lifecycle run`). See docs/lifecycle.md.'),
  }), { intervalMinutes: 60 }),
  gc: z._default(z.strictObject({
    intervalMinutes: about(z._default(num(z.minimum(0), z.maximum(7 * 24 * 60)), 60),
      'Minutes between scheduled online garbage collections of unreferenced blobs and abandoned uploads (0 = only `berth gc`). See docs/gc.md.'),
    graceSeconds: about(z._default(num(z.minimum(0), z.maximum(30 * 24 * 3600)), 3600),
      'A blob link or blob unreferenced for less than this many seconds is kept (pushes in flight reference it soon).'),
    uploadMaxAgeHours: about(z._default(num(z.minimum(0), z.maximum(30 * 24)), 24),
      'Upload sessions idle for longer than this many hours are swept with their staged bytes.'),
  }), { intervalMinutes: 60, graceSeconds: 3600, uploadMaxAgeHours: 24 }),
}).check(z.superRefine((c, ctx) => {
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
}));

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;
