import type { Config } from './schema.js';

/** Config paths whose values are secrets; logged as "[redacted]". Later issues add keys and passwords. */
const SECRET_KEYS = new Set(['secretAccessKey', 'password', 'token', 'connectionString', 'key', 'url']);

/** A copy of the config safe to log. */
export function redactConfig(config: Config): Record<string, unknown> {
  return redact(config) as Record<string, unknown>;
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.has(k) ? '[redacted]' : redact(v)]));
}
