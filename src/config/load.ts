import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

type Layer = Record<string, unknown>;

/** Environment variables berth reads, mapped to config paths. */
const ENV: ReadonlyArray<[string, string[], (v: string) => unknown]> = [
  ['BERTH_LISTEN', ['listen'], String],
  ['BERTH_DATA_DIR', ['dataDir'], String],
  ['BERTH_LOG_LEVEL', ['log', 'level'], String],
  ['BERTH_ACCOUNT_ID', ['accountId'], String],
  ['BERTH_REGION', ['region'], String],
  ['BERTH_WORKERS', ['workers'], Number],
  ['BERTH_PUBLIC_ALIAS', ['public', 'alias'], String],
  ['BERTH_ANONYMOUS_PULLS_PER_SECOND', ['public', 'anonymousPullsPerSecond'], Number],
  ['BERTH_ANONYMOUS_PULL_BURST', ['public', 'anonymousPullBurst'], Number],
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
  const r = configSchema.safeParse(input);
  if (!r.success) throw new ConfigError(describe(r.error));
  return deepFreeze(r.data);
}

async function readConfigFile(file: string): Promise<Layer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
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

function describe(error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const where = i.path.join('.') || '(root)';
    const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
    return `${where}: ${i.message}${keys}`;
  });
}

function setPath(target: Layer, path: string[], value: unknown): void {
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
