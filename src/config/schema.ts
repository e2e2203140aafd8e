import * as v from 'valibot';

// valibot rather than zod (issue 12): this schema is built and its library loaded at every start.
// zod/mini's schema objects are classes of many layers (~0.3 MB of heap that the start's scavenges
// then copied); valibot's are plain objects, and the bundle holds only the functions berth uses: the
// config step of a start went from ~9 to ~7 ms, the start as a whole ~6 ms sooner (measured).

/** Each field's text for docs/configuration.md (scripts/docs.ts), keyed by its schema. */
export const DESCRIPTIONS = new WeakMap<object, string>();

const about = <T extends object>(schema: T, description: string): T => {
  DESCRIPTIONS.set(schema, description);
  return schema;
};
type Check<T> = v.PipeItem<T, T, v.BaseIssue<unknown>>;
const str = (...checks: Check<string>[]) => v.pipe(v.string(), ...(checks as []));
const int = (...checks: Check<number>[]) => v.pipe(v.number(), v.safeInteger(), ...(checks as []));
const num = (...checks: Check<number>[]) => v.pipe(v.number(), ...(checks as []));

const listen = str(v.regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, 'must be HOST:PORT'),
  // Only for an address of the right shape: a malformed one gets the message above alone.
  v.check((s) => !/:\d{1,5}$/.test(s) || Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535'));

const publicUrl = str(v.regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be http(s)://HOST[:PORT] with no path'));

/*
 * Every field carries an `about()` text: docs/configuration.md is generated from this schema
 * (`npm run docs`), and a test fails when that file is not current. The `env` and `flag` names live
 * in ENV (load.ts) and the CLI; the generator reads them from there too.
 */
const accountId = str(v.regex(/^\d{12}$/, 'must be 12 digits'));

/** The whole configuration. Every field has a default, so an empty file is valid. */
export const configSchema = v.strictObject({
  listen: about(v.optional(listen, '127.0.0.1:5000'), 'Address the one listener binds, HOST:PORT.'),
  accountId: about(v.optional(accountId, '000000000000'),
    'The default account (ECR registry id) that owns repositories and the root credentials.'),
  region: about(v.optional(str(v.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1')), 'us-east-1'),
    'The region berth answers as (SigV4 credential scope, ARNs).'),
  dataDir: about(v.optional(str(v.minLength(1)), './data'), 'Where the embedded backends keep their files (SQLite database, blobs, keys).'),
  publicUrl: about(v.optional(publicUrl),
    'Scheme and host clients reach berth at (e.g. https://registry.example.com). Used for repositoryUri, proxyEndpoint and presigned URLs. Unset: taken from each request (Host, or X-Forwarded-Proto/Host when trustProxy is on).'),
  log: v.optional(v.strictObject({
    level: about(v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'), 'Lowest level written.'),
    format: about(v.optional(v.picklist(['auto', 'json', 'pretty']), 'auto'),
      'auto: human-readable lines when stdout is a terminal, JSON lines otherwise. JSON lines are flushed at least every 250 ms.'),
  }), {}),
  tls: v.pipe(v.optional(v.strictObject({
    certFile: about(v.optional(str(v.minLength(1))), 'PEM certificate chain (server certificate first). With keyFile, berth serves HTTPS only. Re-read on SIGHUP.'),
    keyFile: about(v.optional(str(v.minLength(1))), 'PEM private key of the certificate. Re-read on SIGHUP.'),
  }), {}), v.check((t) => (t.certFile === undefined) === (t.keyFile === undefined), 'set both certFile and keyFile, or neither')),
  storage: v.optional(v.strictObject({
    meta: about(v.optional(v.picklist(['sqlite', 'postgres', 'memory']), 'sqlite'),
      'Metadata backend: sqlite (embedded, one machine), postgres (scale-out: every node on one database, see docs/scale-out.md), memory (loses everything on exit; tests).'),
    blob: about(v.optional(v.picklist(['fs', 's3', 'memory']), 'fs'),
      'Blob backend: fs (the data directory), s3 (S3-compatible object storage shared by every node), memory (loses everything on exit; tests).'),
    redirect: about(v.optional(v.boolean(), false),
      'With the s3 blob backend: blob GETs of repositories encrypted with AES256 (the default) are answered by a 307 redirect to a presigned S3 URL, and GetDownloadUrlForLayer returns presigned S3 URLs. Their blobs are then stored as plain objects, encrypted at rest by the object store (s3.serverSideEncryption) instead of by berth; KMS repositories keep berth\'s encryption and are served by berth. See docs/s3-storage.md.'),
  }), {}),
  postgres: v.optional(v.strictObject({
    url: about(v.optional(str(v.regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'))),
      'Connection URL of the PostgreSQL database (storage.meta: postgres), e.g. postgres://berth:secret@db:5432/berth. Never logged.'),
    poolSize: about(v.optional(int(v.minValue(1), v.maxValue(1000)), 10), 'Connections each process keeps in its pool.'),
  }), {}),
  s3: v.optional(v.strictObject({
    endpoint: about(v.optional(str(v.regex(/^https?:\/\//, 'must be an http(s):// URL'))),
      'S3 endpoint URL (storage.blob: s3); unset: AWS S3 for the region.'),
    bucket: about(v.optional(str(v.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name'))),
      'Bucket holding blobs and staged uploads; created when missing.'),
    region: about(v.optional(str(v.minLength(1)), 'us-east-1'), 'Region of the bucket (SigV4 scope).'),
    accessKeyId: about(v.optional(str(v.minLength(1))), 'Access key; unset: the default AWS credential chain.'),
    secretAccessKey: about(v.optional(str(v.minLength(1))), 'Secret key for accessKeyId. Never logged.'),
    prefix: about(v.optional(str(v.regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or end with /')), ''),
      'Key prefix every object of this registry is stored under (e.g. berth/).'),
    forcePathStyle: about(v.optional(v.boolean(), true), 'Path-style addressing (endpoint/bucket/key), which Ceph RGW and MinIO need.'),
    serverSideEncryption: about(v.optional(v.picklist(['none', 'AES256', 'aws:kms']), 'none'),
      'Server-side encryption berth asks the object store for on every object it writes: AES256 (SSE-S3), aws:kms (SSE-KMS), or none (send no header: the bucket\'s default encryption applies — on AWS S3 every new object is SSE-S3-encrypted by default; Ceph RGW and MinIO refuse SSE headers unless their own key backend is set up). With storage.redirect, blobs of AES256 repositories are encrypted at rest by this, not by berth: see docs/s3-storage.md.'),
    sseKmsKeyId: about(v.optional(str(v.minLength(1))), 'With serverSideEncryption aws:kms: the KMS key (id or ARN) of the object store; unset: the bucket\'s default KMS key.'),
  }), {}),
  limits: v.optional(v.strictObject({
    maxBlobBytes: about(v.optional(int(v.gtValue(0)), 50 * 1024 ** 3), 'Largest blob one upload may carry, in bytes.'),
    maxPageSize: about(v.optional(int(v.minValue(1), v.maxValue(100_000)), 1000), 'Largest page a list endpoint returns (`n` is clamped to it).'),
  }), {}),
  timeouts: v.optional(v.strictObject({
    headersSeconds: about(v.optional(int(v.minValue(1), v.maxValue(3600)), 30), 'A request\'s headers must arrive within this many seconds of the connection sending its first byte.'),
    idleSeconds: about(v.optional(int(v.minValue(1), v.maxValue(3600)), 60),
      'A connection with a request in progress (e.g. an upload body) that sends or receives nothing for this long is closed. Bounds slow-body clients without capping large uploads.'),
    keepAliveSeconds: about(v.optional(int(v.minValue(1), v.maxValue(3600)), 75), 'An idle keep-alive connection is closed after this long.'),
  }), {}),
  workers: about(v.optional(v.union([v.literal('auto'), int(v.minValue(1), v.maxValue(64))]), 'auto'),
    'Worker processes serving the listener; auto = one per CPU. Each is a full node of the scale-out design on the shared stores. With more than one, the process you start listens, answers the first requests itself while its workers start, then hands every new connection to a worker in turn and replaces any worker that dies.'),
  shutdownGraceSeconds: about(v.optional(int(v.minValue(0), v.maxValue(3600)), 30),
    'On SIGTERM, seconds in-flight requests (uploads) get to finish before their connections are cut. Idle connections close at once.'),
  accountHosts: v.optional(v.strictObject({
    pattern: about(v.optional(str(v.minLength(1), v.maxLength(253),
      v.check((p) => p.includes('{account}') && (!p.includes('{host}') || p.indexOf('{account}') < p.indexOf('{host}')), 'must contain {account} (before {host})')),
    '{account}.{host}'),
    'An account\'s registry host (no port): {account} (required, first), {region}, and {host} (the host clients reach berth on). The bare host is the default account\'s. See docs/accounts.md.'),
    map: about(v.optional(v.record(str(v.minLength(1), v.maxLength(253)), accountId), {}), 'Explicit host → account mappings, besides the pattern.'),
  }), {}),
  kms: about(v.optional(v.strictObject({
    externalKeyArn: about(v.optional(str(v.minLength(1))),
      'ARN of a key in an external AWS KMS that seals the built-in key service\'s key material instead of the master key (credentials from the AWS SDK\'s default chain). See docs/encryption.md.'),
    externalRegion: about(v.optional(str(v.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1'))),
      'Region of the external KMS; unset: berth\'s own region.'),
    externalEndpoint: about(v.optional(str(v.url())),
      'Endpoint of a KMS-compatible service to use instead of AWS\'s (e.g. a private endpoint, or another berth in tests).'),
  }), {}), 'The built-in key service (KMS API) and blob encryption at rest.'),
  public: about(v.optional(v.strictObject({
    alias: about(v.optional(str(v.regex(/^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'must match [a-z][a-z0-9]+([._-][a-z0-9]+)*'), v.minLength(2), v.maxLength(50))),
      'Alias of the default account\'s ECR Public registry (`<host>/<alias>/<name>`); default: derived from the account id. Other accounts get theirs from `berth account create --alias`. See docs/public.md.'),
    anonymousPullsPerSecond: about(v.optional(num(v.gtValue(0)), 1), 'Anonymous pulls (manifest GETs) of public repositories per second per client address.'),
    anonymousPullBurst: about(v.optional(int(v.minValue(1)), 20), 'Anonymous pulls a client address may make at once before the per-second rate applies (then 429 with Retry-After).'),
    authenticatedPullsPerSecond: about(v.optional(num(v.gtValue(0)), 10), 'Logged-in pulls of public repositories per second per principal.'),
    authenticatedPullBurst: about(v.optional(int(v.minValue(1)), 200), 'Logged-in pulls of public repositories a principal may make at once before the per-second rate applies.'),
  }), {}),
  'ECR Public: the default account\'s registry alias and the pull rate limits of public repositories.'),
  trustProxy: about(v.optional(v.boolean(), false), 'Trust X-Forwarded-For/-Proto/-Host from a reverse proxy in front.'),
  lifecycle: v.optional(v.strictObject({
    intervalMinutes: about(v.optional(num(v.minValue(0), v.maxValue(7 * 24 * 60)), 60),
      'Minutes between scheduled runs of every repository\'s lifecycle policy in each node (0 = only `berth lifecycle run`). See docs/lifecycle.md.'),
  }), {}),
  gc: v.optional(v.strictObject({
    intervalMinutes: about(v.optional(num(v.minValue(0), v.maxValue(7 * 24 * 60)), 60),
      'Minutes between scheduled online garbage collections of unreferenced blobs and abandoned uploads (0 = only `berth gc`). See docs/gc.md.'),
    graceSeconds: about(v.optional(num(v.minValue(0), v.maxValue(30 * 24 * 3600)), 3600),
      'A blob link or blob unreferenced for less than this many seconds is kept (pushes in flight reference it soon).'),
    uploadMaxAgeHours: about(v.optional(num(v.minValue(0), v.maxValue(30 * 24)), 24),
      'Upload sessions idle for longer than this many hours are swept with their staged bytes.'),
  }), {}),
});

export type Config = Readonly<v.InferOutput<typeof configSchema>>;
export type ConfigInput = v.InferInput<typeof configSchema>;

/**
 * The rules that tie fields together, checked once the fields themselves are valid: each problem as
 * `path: message`, as the schema's own are reported.
 */
export function crossFieldProblems(c: Config): string[] {
  const problems: string[] = [];
  if (c.storage.meta === 'postgres' && c.postgres.url === undefined) problems.push('postgres.url: is required when storage.meta is postgres (BERTH_POSTGRES_URL)');
  if (c.storage.blob === 's3' && c.s3.bucket === undefined) problems.push('s3.bucket: is required when storage.blob is s3 (BERTH_S3_BUCKET)');
  if (c.s3.sseKmsKeyId !== undefined && c.s3.serverSideEncryption !== 'aws:kms') problems.push('s3.sseKmsKeyId: needs s3.serverSideEncryption: aws:kms');
  if (c.storage.redirect && c.storage.blob !== 's3') problems.push('storage.redirect: needs storage.blob: s3');
  return problems;
}
