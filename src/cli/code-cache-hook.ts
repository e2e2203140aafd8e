/**
 * bin/code-cache.js (the loader of the bundled CLI) registers a function under this symbol that writes
 * the V8 code cache of each file it loaded without one (or with a rejected one, or one taken by
 * another kind of start): the main bundle and any chunk (scripts/build.mjs). A serving process calls
 * it a moment after it listens, so the cache holds the functions a server start compiles — what every
 * later start, worker and CLI run then skips compiling — and again as it stops, for a chunk first
 * loaded later. Absent when running from source: nothing happens.
 */
const HOOK = Symbol.for('berth.writeCodeCache');

/** How long after listening the cache is taken (so the first requests' code is in it too). */
const AFTER_LISTEN_MS = 1000;

/**
 * What kind of start this process made: on a new data directory (`first-start`: schema, keys, root
 * credentials created) or an existing one (`start`). A cache holds the code of the kinds of start that
 * took it; a start of another kind takes it again (bin/code-cache.js).
 */
let startKind: 'first-start' | 'start' = 'start';

/** Call once listening: writes the cache shortly after (or at shutdown, if that comes first). */
export function codeCacheReady(kind: 'first-start' | 'start'): void {
  startKind = kind;
  setTimeout(writeCodeCacheNow, AFTER_LISTEN_MS).unref();
}

/** Writes the caches the loader lacks for this kind of start (each file's at most once per process). */
export function writeCodeCacheNow(): void {
  const write = (globalThis as Record<symbol, unknown>)[HOOK];
  if (typeof write === 'function') (write as (kind: string) => void)(startKind);
}
