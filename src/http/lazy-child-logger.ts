import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

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
  return new LazyChildLogger(parent, bindings) as unknown as FastifyBaseLogger;
}

/** A class, not an object of closures: one small allocation per request. */
class LazyChildLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(private readonly parent: FastifyBaseLogger, private readonly bindings: Bindings) {}

  get level(): string {
    return (this.#child ?? this.parent).level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return levelEnabled(this.#child ?? this.parent, level);
  }

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, opts);
  }

  silent(): void {}
  fatal(...args: unknown[]): void { this.#write('fatal', args); }
  error(...args: unknown[]): void { this.#write('error', args); }
  warn(...args: unknown[]): void { this.#write('warn', args); }
  info(...args: unknown[]): void { this.#write('info', args); }
  debug(...args: unknown[]): void { this.#write('debug', args); }
  trace(...args: unknown[]): void { this.#write('trace', args); }

  #write(level: Level, args: unknown[]): void {
    if (this.#child === undefined && !this.isLevelEnabled(level)) return;
    const target = this.#real();
    (target[level] as LogMethod).apply(target, args);
  }

  #real(): FastifyBaseLogger {
    return (this.#child ??= this.parent.child(this.bindings));
  }
}

/** pino's level check; a logger without one (fastify's abstract logger in tests) is asked to log. */
export function levelEnabled(logger: FastifyBaseLogger, level: string): boolean {
  const check = (logger as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled;
  return check === undefined || check.call(logger, level);
}
