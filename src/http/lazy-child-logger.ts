import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

const LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

type LogMethod = (...args: unknown[]) => void;

/**
 * fastify's `childLoggerFactory`: a request's logger that becomes pino's `child(bindings)` only when
 * it first writes a line. Making a child serialises its bindings (through the redaction rules) at
 * once, ~2 % of a manifest GET's CPU (issue 12), and at `warn` or `error` most requests write
 * nothing. A line below the level is dropped without making one; level checks ask the parent, whose
 * level a child shares. Options that give the child a level or serializers of its own make it at once.
 */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  if (Object.keys(opts).length > 0) return parent.child(bindings, opts);
  let child: FastifyBaseLogger | undefined;
  const real = (): FastifyBaseLogger => (child ??= parent.child(bindings, opts));
  const enabled = (level: string): boolean => levelEnabled(child ?? parent, level);
  const logger: Record<string, unknown> = {
    child: (b: Bindings, o?: ChildLoggerOptions) => real().child(b, o),
    silent: () => {},
    isLevelEnabled: enabled,
  };
  Object.defineProperty(logger, 'level', {
    get: () => (child ?? parent).level,
    set: (level: string) => { real().level = level; },
    enumerable: true,
  });
  for (const level of LEVELS) {
    logger[level] = (...args: unknown[]) => {
      if (!child && !enabled(level)) return;
      const target = real();
      (target[level] as LogMethod).apply(target, args);
    };
  }
  return logger as unknown as FastifyBaseLogger;
}

/** pino's level check; a logger without one (fastify's abstract logger) is asked to log. */
function levelEnabled(logger: FastifyBaseLogger, level: string): boolean {
  const check = (logger as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled;
  return check === undefined || check.call(logger, level);
}
