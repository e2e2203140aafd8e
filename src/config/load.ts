import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as v from 'valibot';
import { configSchema, crossFieldProblems, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

type Layer = Record<string, unknown>;

const countOrAuto = (v: string): unknown => (v === 'auto' ? v : Number(v));
const bool = (v: string): unknown => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v);

/** Environment variables berth reads, mapped to config paths (docs/configuration.md lists them). */
export const ENV: ReadonlyArray<readonly [string, readonly string[], (v: string) => unknown]> = [
  ['BERTH_LISTEN', ['listen'], String],
  ['BERTH_DATA_DIR', ['dataDir'], String],
  ['BERTH_LOG_LEVEL', ['log', 'level'], String],
  ['BERTH_LOG_FORMAT', ['log', 'format'], String],
  ['BERTH_ACCOUNT_ID', ['accountId'], String],
  ['BERTH_REGION', ['region'], String],
  ['BERTH_PUBLIC_URL', ['publicUrl'], String],
  ['BERTH_TLS_CERT', ['tls', 'certFile'], String],
  ['BERTH_TLS_KEY', ['tls', 'keyFile'], String],
  ['BERTH_WORKERS', ['workers'], countOrAuto],
  ['BERTH_TRUST_PROXY', ['trustProxy'], bool],
  ['BERTH_ACCOUNT_HOST_PATTERN', ['accountHosts', 'pattern'], String],
  ['BERTH_KMS_EXTERNAL_KEY_ARN', ['kms', 'externalKeyArn'], String],
  ['BERTH_KMS_EXTERNAL_REGION', ['kms', 'externalRegion'], String],
  ['BERTH_KMS_EXTERNAL_ENDPOINT', ['kms', 'externalEndpoint'], String],
  ['BERTH_LIFECYCLE_INTERVAL_MINUTES', ['lifecycle', 'intervalMinutes'], Number],
  ['BERTH_GC_INTERVAL_MINUTES', ['gc', 'intervalMinutes'], Number],
  ['BERTH_GC_GRACE_SECONDS', ['gc', 'graceSeconds'], Number],
  ['BERTH_GC_UPLOAD_MAX_AGE_HOURS', ['gc', 'uploadMaxAgeHours'], Number],
  ['BERTH_STORAGE_META', ['storage', 'meta'], String],
  ['BERTH_STORAGE_BLOB', ['storage', 'blob'], String],
  ['BERTH_STORAGE_REDIRECT', ['storage', 'redirect'], bool],
  ['BERTH_POSTGRES_URL', ['postgres', 'url'], String],
  ['BERTH_POSTGRES_POOL_SIZE', ['postgres', 'poolSize'], Number],
  ['BERTH_S3_ENDPOINT', ['s3', 'endpoint'], String],
  ['BERTH_S3_BUCKET', ['s3', 'bucket'], String],
  ['BERTH_S3_REGION', ['s3', 'region'], String],
  ['BERTH_S3_ACCESS_KEY_ID', ['s3', 'accessKeyId'], String],
  ['BERTH_S3_SECRET_ACCESS_KEY', ['s3', 'secretAccessKey'], String],
  ['BERTH_S3_PREFIX', ['s3', 'prefix'], String],
  ['BERTH_S3_SERVER_SIDE_ENCRYPTION', ['s3', 'serverSideEncryption'], String],
  ['BERTH_S3_SSE_KMS_KEY_ID', ['s3', 'sseKmsKeyId'], String],
  ['BERTH_PUBLIC_ALIAS', ['public', 'alias'], String],
  ['BERTH_ANONYMOUS_PULLS_PER_SECOND', ['public', 'anonymousPullsPerSecond'], Number],
  ['BERTH_ANONYMOUS_PULL_BURST', ['public', 'anonymousPullBurst'], Number],
  ['BERTH_AUTHENTICATED_PULLS_PER_SECOND', ['public', 'authenticatedPullsPerSecond'], Number],
  ['BERTH_AUTHENTICATED_PULL_BURST', ['public', 'authenticatedPullBurst'], Number],
];

/**
 * Loads the configuration: defaults < file < environment < flags. Validated once; the result is
 * deeply frozen. Throws {@link ConfigError} naming every bad field.
 */
export async function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; flags?: Layer }): Promise<Config> {
  const fileLayer = opts.file ? await readConfigFile(opts.file) : {};
  const envLayer: Layer = {};
  for (const [name, path, convert] of ENV) {
    const v = (opts.env ?? process.env)[name];
    if (v !== undefined && v !== '') setPath(envLayer, path, convert(v));
  }
  return validateConfig(merge(merge(fileLayer, envLayer), opts.flags ?? {}));
}

export function validateConfig(input: unknown): Config {
  const r = v.safeParse(configSchema, input);
  if (!r.success) throw new ConfigError(r.issues.map(describe));
  const problems = crossFieldProblems(r.output);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(r.output);
}

/** The number of worker processes `workers` asks for (`auto`: one per CPU the process may use). */
export function workerCount(config: Pick<Config, 'workers'>): number {
  return config.workers === 'auto' ? Math.max(1, Math.min(64, availableParallelism())) : config.workers;
}

async function readConfigFile(file: string): Promise<Layer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  // Loaded only when there is a file to parse (a chunk of the bundle: scripts/build.mjs).
  const { parse: parseYaml } = await import('yaml');
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError([`${file}: must be a YAML mapping`]);
  return doc as Layer;
}

/** One problem as `path: message` (a key the schema does not know: `path: unknown key`). */
function describe(issue: v.BaseIssue<unknown>): string {
  const where = issue.path?.map((item) => String(item.key)).join('.') || '(root)';
  return `${where}: ${issue.type === 'strict_object' && issue.expected === 'never' ? 'unknown key' : issue.message}`;
}

function setPath(target: Layer, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === 'object' && next !== null ? next : (node[key] = {})) as Layer;
  }
  node[path[path.length - 1]!] = value;
}

function merge(base: Layer, over: Layer): Layer {
  const out: Layer = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlain(v) && isPlain(b) ? merge(b, v) : v;
  }
  return out;
}

function isPlain(v: unknown): v is Layer {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
