// Runs the bundled CommonJS CLI with a V8 code cache next to it, so a start deserialises the
// functions it needs instead of parsing and compiling ~3 MB of JavaScript each time (every CLI
// call, every server start, every worker the supervisor forks). Hand-written because Node 20 has
// no built-in compile cache (module.enableCompileCache is Node 22) and v8-compile-cache keeps only
// what V8 compiles eagerly at load, in a shared temp directory; this cache is taken after start-up
// (so it holds the functions start-up compiled) and lives beside the bundle, as trusted as it is.
// When: a serving process calls the hook (src/cli/code-cache-hook.ts) after it listens; other
// commands never write it, so a short or partial run (a supervisor, `berth gc`) cannot leave a cache
// that lacks the server's code; the first start of a kind the cache lacks takes it again (CACHE_TAG).
'use strict';
const { Buffer, isAscii } = require('node:buffer');
const { closeSync, fstatSync, openSync, read, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

const HOOK = Symbol.for('berth.writeCodeCache');
/** CommonJS's module wrapper, as Module.wrap adds it (the build puts it in the bundle itself). */
const WRAPPER = ['(function (exports, require, module, __filename, __dirname) { ', '\n});'];

/**
 * Builtin modules a server start loads (berth's and its dependencies' top-level requires). Loaded
 * here while the bundle and its cache are read on libuv's thread pool, so that their compilation
 * (~13 ms) and the reads (~3 MB of page faults, slow on some VMs) overlap instead of adding
 * up. Loading one earlier than its first use changes nothing (builtins are singletons); one no
 * longer used costs its load (node:zlib and node:v8, ~1.5 ms, are not loaded by a start). node:https
 * (TLS) stays lazy.
 */
const SERVER_BUILTINS = [
  'node:http', 'node:crypto', 'node:child_process', 'node:worker_threads', 'node:fs/promises',
  'node:stream/promises', 'node:perf_hooks', 'node:os', 'node:assert',
  'node:string_decoder', 'node:diagnostics_channel', 'node:async_hooks', 'node:querystring',
];

/**
 * Reads the whole of a regular file of `size` bytes with one read(2) on the thread pool, issued
 * now; `done(err, bytes)`. Open and close are synchronous (cheap): a chain of asynchronous steps
 * would wait for this thread between them.
 */
function readWhole(path, size, done) {
  let fd;
  try {
    fd = openSync(path, 'r');
    if (size === undefined) size = fstatSync(fd).size;
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    return void process.nextTick(done, err);
  }
  const bytes = Buffer.allocUnsafeSlow(size);
  const next = (at) => read(fd, bytes, at, size - at, at, (err, n) => {
    if (!err && n > 0 && at + n < size) return void next(at + n);
    closeSync(fd);
    if (err) return done(err);
    done(at + n === size ? null : new Error(`${path} changed while being read`), bytes);
  });
  next(0);
}

/** Where the build puts the chunks (scripts/build.mjs), relative to the main bundle. */
const CHUNK_DIR = 'chunks';

/**
 * Every file this process ran through a cache: its script, its cache file, and the kinds of start
 * the cache it found holds the code of (none: there was none, or V8 rejected it).
 */
const loaded = [];

/**
 * A cache file is one ASCII line naming the kinds of start whose code it holds, then V8's data. A
 * start on a new data directory runs code a start on an existing one does not (schema, keys, root
 * credentials) and the other way round: a cache taken by one kind of start made the other ~30 ms
 * slower (issue 12). So a start of a kind the cache lacks takes it again: the new cache holds what
 * the old one gave this process and what this start compiled, and after one start of each kind
 * nothing is rewritten.
 */
const CACHE_TAG = 'berth-code-cache kinds=';

/** The kinds and V8 data of a cache file's bytes, or undefined when it is not one. */
function parseCache(bytes) {
  if (bytes === undefined) return undefined;
  const end = bytes.indexOf(10);
  if (end < 0 || end > 512 || bytes.toString('latin1', 0, CACHE_TAG.length) !== CACHE_TAG) return undefined;
  const kinds = bytes.toString('latin1', CACHE_TAG.length, end);
  return { kinds: new Set(kinds === '' ? [] : kinds.split(',')), data: bytes.subarray(end + 1) };
}

/** Runs `file` (a CommonJS bundle) as the main program, through and refreshing its code cache. */
function runCached(file) {
  const { size, mtimeMs } = statSync(file);
  const base = cacheBase(file, size, mtimeMs);
  // BERTH_CODE_CACHE=0: neither read nor write one (to compare, or on a read-only install).
  const enabled = process.env.BERTH_CODE_CACHE !== '0';
  let pending = 2;
  let bytes;
  let bundleError;
  let asciiCache;
  const ready = () => {
    if (--pending > 0) return;
    if (bundleError) throw bundleError;
    run(file, base, bytes, enabled, parseCache(asciiCache), chunkRequire(file, enabled));
  };
  readWhole(file, size, (err, data) => {
    bundleError = err;
    bytes = data;
    ready();
  });
  if (enabled) {
    readWhole(`${base}.ascii.v8cache`, undefined, (err, data) => {
      asciiCache = err ? undefined : data;
      ready();
    });
  } else {
    pending--;
  }
  for (const id of SERVER_BUILTINS) require(id);
  if (enabled) {
    // A serving process calls this after it listens and again as it stops (src/cli/code-cache-hook.ts),
    // so a chunk first loaded by a later request still gets its cache. `kind`: what start it was.
    globalThis[HOOK] = (kind = 'start') => {
      for (const file of loaded) {
        if (file.kinds.has(kind)) continue;
        file.kinds.add(kind);
        writeCache(file.script, file.cacheFile, file.kinds);
      }
    };
  }
}

/**
 * Named by the file's size and mtime and the Node version: V8 checks its version and flags, but
 * identifies the source only by its length, so a rebuilt file must never meet an old cache.
 */
function cacheBase(file, size, mtimeMs) {
  return `${file}.${size}-${Math.trunc(mtimeMs)}-${process.version}`;
}

/**
 * The `require` the main bundle runs with: its own (resolving from dist/), except that the build's
 * chunks (`./chunks/<name>.cjs`, scripts/build.mjs) are loaded here, once each, through a code cache
 * of their own, as the main bundle is.
 */
function chunkRequire(file, enabled) {
  const requireFromBundle = Module.createRequire(file);
  const chunks = new Map();
  const load = (id) => {
    const path = requireFromBundle.resolve(id);
    const bytes = readFileSync(path);
    const { size, mtimeMs } = statSync(path);
    const base = cacheBase(path, size, mtimeMs);
    let cache;
    if (enabled) {
      try {
        cache = parseCache(readFileSync(`${base}.ascii.v8cache`));
      } catch {
        // none yet: written by the next hook call
      }
    }
    const module = run(path, base, bytes, enabled, cache, Module.createRequire(path));
    return module.exports;
  };
  const bundleRequire = (id) => {
    if (!id.startsWith(`./${CHUNK_DIR}/`)) return requireFromBundle(id);
    let exports = chunks.get(id);
    if (exports === undefined) chunks.set(id, exports = load(id));
    return exports;
  };
  return Object.assign(bundleRequire, {
    resolve: requireFromBundle.resolve, cache: requireFromBundle.cache, main: requireFromBundle.main, extensions: requireFromBundle.extensions,
  });
}

/**
 * Compiles and runs one built file (main bundle or chunk) through its cache (`asciiCache`: the parsed
 * `.ascii` cache file, if any); returns its module.
 */
function run(file, base, bytes, enabled, asciiCache, requireFn) {
  // The build emits ASCII (scripts/build.mjs checks): decoded as latin1 it is a one-byte string made
  // in ~1 ms, where Node 20's UTF-8 decoder takes ~100 ms on the 4 MB bundle (and any non-ASCII
  // byte would make the whole source a two-byte string, slower for V8 to scan as well). Checking
  // costs ~15 ms on the 6 MB bundle, so it is done once: a cache named `.ascii` is only ever
  // written for a file (this size and mtime) found to be ASCII.
  let cache = asciiCache;
  let ascii = cache !== undefined;
  if (!ascii) {
    ascii = isAscii(bytes);
    if (enabled && !ascii) {
      try {
        cache = parseCache(readFileSync(`${base}.v8cache`));
      } catch {
        // none yet: this run writes it
      }
    }
  }
  const cachedData = cache?.data;
  const cacheFile = `${base}${ascii ? '.ascii' : ''}.v8cache`;
  const source = ascii ? bytes.toString('latin1') : bytes.toString('utf8');
  // The build writes the module wrapper into the file (scripts/build.mjs); anything else is wrapped here.
  const wrapped = source.startsWith(WRAPPER[0]);
  const script = new vm.Script(wrapped ? source : Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = new Module(file);
  module.filename = file;
  module.paths = requireFn.resolve.paths('x') ?? [];
  if (enabled) loaded.push({ script, cacheFile, kinds: cachedData && !script.cachedDataRejected ? cache.kinds : new Set() });
  script.runInThisContext()(module.exports, requireFn, module, file, dirname(file));
  module.loaded = true;
  return module;
}

function writeCache(script, cacheFile, kinds) {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${CACHE_TAG}${[...kinds].sort().join(',')}\n`, 'latin1'), script.createCachedData()]), { mode: 0o644 });
    renameSync(tmp, cacheFile);
  } catch {
    // A read-only installation runs without a cache; nothing to report.
    rmSync(tmp, { force: true });
  }
}

module.exports = { runCached, chunkRequire, parseCache, WRAPPER, CHUNK_DIR };
