import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from './schema.js';

/** How often buffered JSON output is flushed, so a quiet server's lines reach the terminal promptly. */
const FLUSH_INTERVAL_MS = 250;

const REDACT: LoggerOptions['redact'] = {
  paths: ['req.headers.authorization', 'req.headers.cookie', '*.secretAccessKey', '*.password'],
  censor: '[redacted]',
};

/**
 * pino's error serializer, with `type` from the error's `name` rather than its constructor's: in
 * the bundle, functions and classes carry mangled names (scripts/build.mjs), while every error class
 * of berth sets its `name`, and other errors' names are what people know them by.
 */
export function serializeError(err: Error): ReturnType<typeof pino.stdSerializers.err> {
  const out = pino.stdSerializers.err(err);
  // A value that is not error-like comes back as it is: leave it alone.
  if ((out as unknown) !== err && typeof err.name === 'string' && err.name !== '') out.type = err.name;
  return out;
}

/** True when log lines should be rendered for people (a terminal), per `log.format`. */
export function prettyLogs(config: Pick<Config, 'log'>, stream: { isTTY?: boolean } = process.stdout): boolean {
  return config.log.format === 'pretty' || (config.log.format === 'auto' && stream.isTTY === true);
}

/**
 * The process logger. JSON lines go through a buffered, asynchronous stdout (synchronous writes cost
 * a fifth of the manifest hot path) that is flushed every {@link FLUSH_INTERVAL_MS} and on close; a
 * kill -9 may lose the last quarter second of lines, never data. On a terminal (or `format: pretty`)
 * lines are rendered by pino-pretty, synchronously — a person is reading, not a benchmark.
 */
export function createLogger(config: Pick<Config, 'log'>): Logger {
  const options: LoggerOptions = { level: config.log.level, redact: REDACT, serializers: { err: serializeError } };
  if (prettyLogs(config)) return pino(options, prettyStream());
  const dest = pino.destination({ dest: 1, sync: false, minLength: 8192 });
  const timer = setInterval(() => dest.flush(), FLUSH_INTERVAL_MS);
  timer.unref();
  return pino(options, dest);
}

/**
 * pino-pretty as a plain stream in this thread (no transport worker: it starts in milliseconds and
 * survives bundling). Loaded only when a terminal asks for it, so JSON deployments never load it.
 */
function prettyStream(): DestinationStream {
  const require = createRequire(import.meta.url);
  const pretty = require('pino-pretty') as (opts: Record<string, unknown>) => DestinationStream;
  return pretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
    sync: true,
  });
}
