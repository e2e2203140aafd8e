#!/usr/bin/env node
// Builds dist/berth.cjs: the whole CLI and server in one minified CommonJS file (esbuild), so a start
// parses one file instead of resolving and compiling ~400 modules (~1.1 s → ~0.2 s at the time), and
// bin/berth.js can run it with a V8 code cache (bin/code-cache.js) — Node 20 has no compile cache
// for ES modules. Type checking is `npm run typecheck` (tsc); this step only transpiles. Rarely used
// parts (certificate generation, the PostgreSQL driver) are reached through import() and so are only
// initialised when used; the large libraries among them are built as chunks of their own (CHUNKS);
// native and optional packages stay in node_modules.
import { build } from 'esbuild';
import { isAscii } from 'node:buffer';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const { WRAPPER, CHUNK_DIR } = createRequire(import.meta.url)('../bin/code-cache.js');
const minify = process.env.BERTH_BUILD_MINIFY !== '0';

/**
 * Libraries no server start runs (only a configuration file, the S3 and KMS clients, the PostgreSQL
 * driver, certificate generation, markdown pages and image scanning do), each bundled into
 * dist/chunks/<name>.cjs, which the main bundle loads (through bin/code-cache.js, with a code cache
 * of its own) the first time code imports one of them. In the main bundle they were ~3 of its
 * ~5.8 MB: bytes every start read and copied into a string without running them (~35 ms of a start;
 * issue 12). Only packages berth's sources import go here, each in one chunk; what two chunks share
 * is bundled into both.
 */
const CHUNKS = {
  // A configuration file's parser: a start configured by flags and environment does not load it.
  yaml: ['yaml'],
  aws: ['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner', '@aws-sdk/client-kms'],
  postgres: ['pg'],
  // tsyringe (under @peculiar/x509) needs the Reflect polyfill loaded before it: listed first.
  x509: ['reflect-metadata', '@peculiar/x509'],
  markdown: ['marked', 'sanitize-html'],
  zip: ['fflate', 'yauzl'],
  // The scanning engine's libraries (src/scan/worker.ts loads the engine with the first scan job).
  scan: ['tar-stream', 'fzstd', '@renovatebot/pep440', 'semver', 'ae-cvss-calculator', 'packageurl-js'],
  // The SQL query builder: a start runs its few queries as SQL text (the stores' start paths), so
  // kysely loads with the first request that builds a query (LAZY_PACKAGES).
  sql: ['kysely'],
};

/**
 * Packages of CHUNKS whose chunk loads when one of its exports is first read, not when a module
 * importing it initialises: the stores import kysely statically, and a start builds no query.
 */
const LAZY_PACKAGES = new Set(['kysely']);

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // BERTH_BUILD_MINIFY=0 keeps names and lines readable in CPU profiles (bench/profile-get.ts).
  minifyWhitespace: minify,
  minifySyntax: minify,
  sourcemap: 'linked',
  legalComments: 'none',
  // ASCII output, so bin/code-cache.js can decode the bundle as latin1 (~1 ms) instead of UTF-8
  // (~100 ms on Node 20). esbuild escapes strings but not tagged templates: write HTML entities there.
  charset: 'ascii',
  // The sources are ES modules: give them import.meta.url in the CommonJS bundle.
  define: { 'import.meta.url': '__berthImportMetaUrl' },
  // The file is one function expression, CommonJS's module wrapper (what Module.wrap adds) included:
  // bin/code-cache.js compiles the file's text as it is. Wrapping it at run time made a second copy
  // of the ~6 MB source when V8 flattened the concatenation (~25 ms at every start; issue 12).
  banner: { js: `${WRAPPER[0]}const __berthImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
  footer: { js: WRAPPER[1] },
  logLevel: 'warning',
};

rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { berth: 'src/cli/main.ts' },
  // Identifiers mangled, and no keepNames (issue 12): every start reads the bundle, copies it into a
  // string and deserialises its code cache, ~10 ms per MB on slow-memory machines, and mangling took
  // the file from 2.4 to 1.7 MB (−22 ms a start, measured). keepNames would then have to set `name`
  // on every closure made, a dozen per manifest GET (~10 % of its CPU, measured), so functions and
  // classes carry their short names: stack traces show those (dist/berth.cjs.map maps them back).
  // Errors are unaffected: every berth error class sets its `name`, and the log types errors by it
  // (src/config/logger.ts). Nothing in berth or in the main bundle's dependencies reads a function's
  // name for meaning; the chunks, not on the start path, keep theirs.
  minifyIdentifiers: minify,
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  // pino-pretty is loaded only for terminals. better-sqlite3's JavaScript is bundled (so it shares
  // the code cache); its compiled addon is loaded from node_modules (see deferRequires). Fastify's
  // JSON-schema compilers (ajv, ~0.4 MB) are only ever loaded from node_modules, by
  // src/http/lazy-compilers.ts, and only if a route declares a schema (none does).
  external: ['pino-pretty', 'better-sqlite3/package.json', 'better-sqlite3/build/*', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler'],
  plugins: [deferRequires(), chunkImports()],
});
await Promise.all(Object.entries(CHUNKS).map(([name, packages]) => build({
  ...common,
  stdin: {
    contents: `module.exports = {${packages.map((p) => `${JSON.stringify(p)}: require(${JSON.stringify(p)})`).join(', ')}};`,
    resolveDir: root,
    sourcefile: `chunk-${name}.js`,
  },
  outfile: `dist/${CHUNK_DIR}/${name}.cjs`,
  // Names kept (identifiers not mangled, so keepNames finds almost every function already named,
  // and cheapNames() below skips those): the AWS SDK and the others run as written.
  keepNames: true,
})));

for (const name of Object.keys(CHUNKS)) cheapNames(`${root}dist/${CHUNK_DIR}/${name}.cjs`);
for (const file of ['berth.cjs', ...Object.keys(CHUNKS).map((name) => `${CHUNK_DIR}/${name}.cjs`)]) {
  const bytes = readFileSync(`${root}dist/${file}`);
  if (!isAscii(bytes)) {
    const at = bytes.findIndex((b) => b > 0x7f);
    console.warn(`warning: dist/${file} is not ASCII (near: ${JSON.stringify(bytes.subarray(Math.max(0, at - 60), at + 8).toString())}); every load decodes it as UTF-8, ~100 ms slower`);
  }
}

/**
 * In the main bundle, an import of a package of CHUNKS becomes a require of its chunk (resolved
 * from dist/berth.cjs at run time, so bin/code-cache.js loads it), taking the package's exports
 * from the object the chunk exports. esbuild still converts the import as for any CommonJS module,
 * so a static import runs the chunk when its importer initialises, and import() when it is called —
 * except for LAZY_PACKAGES, whose exports are getters that run the chunk when first read.
 */
function chunkImports() {
  const owner = new Map(Object.entries(CHUNKS).flatMap(([name, packages]) => packages.map((p) => [p, name])));
  const escape = (p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return {
    name: 'chunk-imports',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(${[...owner.keys()].map(escape).join('|')})$`) }, (args) => ({ path: args.path, namespace: 'berth-chunk' }));
      b.onLoad({ filter: /.*/, namespace: 'berth-chunk' }, (args) => {
        const load = `require(${JSON.stringify(`./${CHUNK_DIR}/${owner.get(args.path)}.cjs`)})[${JSON.stringify(args.path)}]`;
        if (!LAZY_PACKAGES.has(args.path)) return { contents: `module.exports = ${load};`, loader: 'js' };
        // Its export names, read here; each a getter that loads the chunk the first time one is read.
        const names = Object.keys(createRequire(`${root}package.json`)(args.path)).filter((n) => n !== 'default' && n !== '__esModule');
        return {
          contents: `let loaded; const chunk = () => (loaded ??= ${load});\n${names.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => chunk()[${JSON.stringify(n)}] });`).join('\n')}`,
          loader: 'js',
        };
      });
      b.onResolve({ filter: /.*/, namespace: 'berth-chunk' }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/**
 * esbuild's keepNames helper sets `name` on every function it wraps, even when the function already
 * has that name (with unmangled identifiers, all but the ones renamed apart across modules, e.g.
 * `parse11`). Setting a name is a runtime call and a map transition for each closure created, so the
 * helper is replaced by one that only sets a name that differs: the same names result. The
 * replacement has the same length, so the source map's columns stay right. esbuild has no option
 * for this; the build fails if the helper's text ever changes.
 */
function cheapNames(file) {
  const text = readFileSync(file, 'utf8');
  const forms = [
    ['__name=(target,value)=>__defProp(target,"name",{value,configurable:!0})', '__name=(t,v)=>t.name==v?t:__defProp(t,"name",{value:v,configurable:!0})'],
    ['__name = (target, value) => __defProp(target, "name", { value, configurable: true })', '__name = (t, v) => t.name == v ? t : __defProp(t, "name", {value:v,configurable:!0})'],
  ];
  for (const [from, to] of forms) {
    if (from.length !== to.length) throw new Error('build: the __name replacement must keep the length');
    const at = text.indexOf(from);
    if (at === -1) continue;
    if (text.indexOf(from, at + 1) !== -1) throw new Error("build: esbuild's __name helper appears twice");
    writeFileSync(file, text.slice(0, at) + to + text.slice(at + from.length));
    return;
  }
  throw new Error("build: esbuild's __name helper was not found (did esbuild change it?); see cheapNames in scripts/build.mjs");
}

/**
 * `semver.satisfies(fastify's version, range, { includePrerelease })` for the `fastify` range each
 * fastify plugin berth depends on declares (its `fastify: '…'` metadata), both ways of the flag,
 * keyed as plugin-utils.js asks (deferRequires). Computed by semver itself at build time: the bundle
 * holds this fastify and these plugins, so the answers cannot differ at run time.
 */
function pluginVersionChecks() {
  const require = createRequire(import.meta.url);
  const satisfies = require('semver/functions/satisfies');
  const { version } = JSON.parse(readFileSync(require.resolve('fastify/package.json'), 'utf8'));
  const plugins = Object.keys(JSON.parse(readFileSync(`${root}package.json`, 'utf8')).dependencies).filter((name) => name.startsWith('@fastify/'));
  const checks = {};
  for (const plugin of plugins) {
    for (const [, range] of readFileSync(require.resolve(plugin), 'utf8').matchAll(/\bfastify: '([^']+)'/g)) {
      for (const includePrerelease of [false, true]) checks[`${version} ${range} ${includePrerelease}`] = satisfies(version, range, { includePrerelease });
    }
  }
  return checks;
}

/**
 * Start-up edits of dependencies (issue 12), with better-sqlite3's addon lookup below. Some load
 * modules at start that a berth process needs late or never: fastify's server.js requires
 * node:http2 (~8 ms) for the `http2` option berth does not set, node:https (~6 ms) used only with
 * TLS and node:dns used only by a listen on a host name; prom-client's index requires its
 * Pushgateway (with http, https, zlib) and its default metrics; fastify requires all of semver;
 * find-my-way vets regular expressions with safe-regex2 at load; @fastify/multipart loads busboy.
 * Bundled here as lazy requires (or the parts used) instead — the same modules, loaded on first
 * use — so nothing changes for code that does use them. The build fails if a dependency's text
 * changes, rather than silently keeping the eager load.
 */
function deferRequires() {
  const edits = [
    {
      file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/,
      from: "const http2 = require('node:http2')",
      to: "let http2Module; const http2 = { createServer: (...a) => (http2Module ??= require('node:http2')).createServer(...a), createSecureServer: (...a) => (http2Module ??= require('node:http2')).createSecureServer(...a) }",
      // Every use of the binding in the file must be one of the two functions defined above.
      uses: /\bhttp2\.(?!createServer\(|createSecureServer\()\w/,
    },
    {
      // node:https (the whole TLS stack, ~6 ms) is needed only when TLS is configured.
      file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/,
      from: "const https = require('node:https')",
      to: "let httpsModule; const https = { createServer: (...a) => (httpsModule ??= require('node:https')).createServer(...a) }",
      uses: /\bhttps\.(?!createServer\()\w/,
    },
    {
      // node:dns only for a listen on a host name (a supervisor's workers never call listen).
      file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/,
      from: "const dns = require('node:dns')",
      to: "let dnsModule; const dns = { lookup: (...a) => (dnsModule ??= require('node:dns')).lookup(...a) }",
      uses: /\bdns\.(?!lookup\()\w/,
    },
    {
      // fastify checks each plugin's `fastify` version range with three functions of semver, whose
      // index would load all of it. Loaded on first use instead, from their own modules; and the
      // ranges of the fastify plugins berth depends on are answered from a table semver computed
      // here (pluginVersionChecks): the first check built semver's ranges and regular expressions,
      // ~2.5 ms of every start. Any other range or version is checked by semver at run time.
      file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]plugin-utils\.js$/,
      from: "const semver = require('semver')",
      to: `const checked = ${JSON.stringify(pluginVersionChecks())}; const semver = { gt: (...a) => require('semver/functions/gt')(...a), coerce: (...a) => require('semver/functions/coerce')(...a), satisfies: (version, range, options) => checked[\`\${version} \${range} \${Boolean(options?.includePrerelease)}\`] ?? require('semver/functions/satisfies')(version, range, options) }`,
      uses: /\bsemver\.(?!gt\(|coerce\(|satisfies\()\w/,
    },
    {
      // better-sqlite3 finds its addon through the `bindings` package, which walks directories from
      // the caller's file — from inside this bundle it would search dist/. Its package resolves the
      // addon where it is built instead; `bindings`, rooted at the package, stays the fallback
      // (another build layout). Bundled, the package's JavaScript also shares the code cache
      // instead of being compiled at every start (~8 ms).
      file: /[\\/]node_modules[\\/]better-sqlite3[\\/]lib[\\/]database\.js$/,
      from: "addon = DEFAULT_ADDON || (DEFAULT_ADDON = require('bindings')('better_sqlite3.node'));",
      to: "addon = DEFAULT_ADDON || (DEFAULT_ADDON = (() => { let file; try { file = require.resolve('better-sqlite3/build/Release/better_sqlite3.node'); } catch { return require('bindings')({ bindings: 'better_sqlite3.node', module_root: path.dirname(require.resolve('better-sqlite3/package.json')) }); } return require(file); })());",
    },
    {
      // safe-regex2 (with ret, which builds its character sets at load) is needed only to vet a
      // route with a regular expression in it, which berth never registers. At load find-my-way
      // vets three regular expressions of its own, constants of the file: those checks are left out.
      file: /[\\/]node_modules[\\/]find-my-way[\\/]index\.js$/,
      from: "const isRegexSafe = require('safe-regex2')",
      to: "let safeRegex; const isRegexSafe = (re) => (safeRegex ??= require('safe-regex2'))(re)",
    },
    ...['OPTIONAL_PARAM_REGEXP', 'ESCAPE_REGEXP', 'REMOVE_DUPLICATE_SLASHES_REGEXP'].map((name) => ({
      file: /[\\/]node_modules[\\/]find-my-way[\\/]index\.js$/,
      from: `if (!isRegexSafe(${name})) {\n  throw new Error('the ${name} is not safe, update this module')\n}`,
      to: `// (berth's build: the load-time check of ${name} is left out; scripts/build.mjs)`,
    })),
    {
      // busboy parses multipart bodies (the console's uploads): loaded with the first one.
      file: /[\\/]node_modules[\\/]@fastify[\\/]multipart[\\/]index\.js$/,
      from: "const Busboy = require('@fastify/busboy')",
      to: "let busboyModule; const lazyBusboy = () => (busboyModule ??= require('@fastify/busboy'))",
    },
    {
      file: /[\\/]node_modules[\\/]@fastify[\\/]multipart[\\/]index\.js$/,
      from: 'return new Busboy(options)',
      to: 'return new (lazyBusboy())(options)',
      uses: /\bBusboy\b/,
    },
    {
      file: /[\\/]node_modules[\\/]prom-client[\\/]index\.js$/,
      from: "exports.Pushgateway = require('./lib/pushgateway');",
      to: "Object.defineProperty(exports, 'Pushgateway', { enumerable: true, get: () => require('./lib/pushgateway') });",
    },
    {
      // The default process metrics (and @opentelemetry/api, which one of them loads) are collected
      // from a second after start (src/http/metrics.ts): loaded then, not at start.
      file: /[\\/]node_modules[\\/]prom-client[\\/]index\.js$/,
      from: "exports.collectDefaultMetrics = require('./lib/defaultMetrics');",
      to: "Object.defineProperty(exports, 'collectDefaultMetrics', { enumerable: true, get: () => require('./lib/defaultMetrics') });",
    },
  ];
  // One onLoad per file (esbuild uses the first that answers), applying every edit of that file.
  const files = [...new Set(edits.map((e) => e.file.source))].map((source) => edits.filter((e) => e.file.source === source));
  return {
    name: 'defer-requires',
    setup(b) {
      for (const group of files) {
        b.onLoad({ filter: group[0].file }, (args) => {
          let code = readFileSync(args.path, 'utf8');
          for (const edit of group) {
            const at = code.indexOf(edit.from);
            if (at === -1 || code.indexOf(edit.from, at + 1) !== -1) {
              throw new Error(`build: expected "${edit.from}" once in ${args.path} (did the dependency change?); see deferRequires in scripts/build.mjs`);
            }
            code = code.slice(0, at) + edit.to + code.slice(at + edit.from.length);
          }
          const live = code.replace(/^\s*(\/\/|\*).*$/gm, '');
          if (group.some((edit) => edit.uses?.test(live))) throw new Error(`build: ${args.path} uses more of a module than deferRequires provides`);
          return { contents: code, loader: 'js' };
        });
      }
    },
  };
}
