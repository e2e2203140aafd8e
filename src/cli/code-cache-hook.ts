/**
 * bin/code-cache.js (the loader of the bundled CLI) registers a function under this symbol that writes
 * the V8 code cache when the bundle had none (or a rejected one). A serving process calls it a moment
 * after it listens, so the cache holds the functions a server start compiles — what every later start,
 * worker and CLI run then skips compiling. Absent when running from source: nothing happens.
 */
const HOOK = Symbol.for('berth.writeCodeCache');

/** How long after listening the cache is taken (so the first requests' code is in it too). */
const AFTER_LISTEN_MS = 1000;

/** Call once listening: writes the cache shortly after (or at shutdown, if that comes first). */
export function codeCacheReady(): void {
  setTimeout(writeCodeCacheNow, AFTER_LISTEN_MS).unref();
}

/** Writes the cache now if the loader asked for one (the hook removes itself, so at most once). */
export function writeCodeCacheNow(): void {
  const write = (globalThis as Record<symbol, unknown>)[HOOK];
  if (typeof write === 'function') (write as () => void)();
}
