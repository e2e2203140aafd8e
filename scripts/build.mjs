#!/usr/bin/env node
// Builds dist/berth.cjs: the whole CLI and server in one minified CommonJS file (esbuild), so a start
// parses one file instead of resolving and compiling ~400 modules (~1.1 s → ~0.2 s at the time), and
// bin/berth.js can run it with a V8 code cache (bin/code-cache.js) — Node 20 has no compile cache
// for ES modules. Type checking is `npm run typecheck` (tsc); this step only transpiles. Rarely used
// parts (certificate generation, the PostgreSQL driver) are reached through import() and so are only
// initialised when used; native and optional packages stay in node_modules.
import { build } from 'esbuild';
import { isAscii } from 'node:buffer';
import { readFileSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { berth: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // BERTH_BUILD_MINIFY=0 keeps names and lines readable in CPU profiles (bench/profile-get.ts).
  minify: process.env.BERTH_BUILD_MINIFY !== '0',
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  // ASCII output, so bin/code-cache.js can decode the bundle as latin1 (~1 ms) instead of UTF-8
  // (~100 ms on Node 20). esbuild escapes strings but not tagged templates: write HTML entities there.
  charset: 'ascii',
  outExtension: { '.js': '.cjs' },
  // better-sqlite3 is a native addon; pino-pretty is loaded only for terminals.
  external: ['better-sqlite3', 'pino-pretty'],
  // The sources are ES modules: give them import.meta.url in the CommonJS bundle.
  define: { 'import.meta.url': '__berthImportMetaUrl' },
  banner: { js: "const __berthImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

const bundle = readFileSync(`${root}dist/berth.cjs`);
if (!isAscii(bundle)) {
  const at = bundle.findIndex((b) => b > 0x7f);
  console.warn(`warning: dist/berth.cjs is not ASCII (near: ${JSON.stringify(bundle.subarray(Math.max(0, at - 60), at + 8).toString())}); every start decodes it as UTF-8, ~100 ms slower`);
}
