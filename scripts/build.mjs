#!/usr/bin/env node
// Builds dist/berth.mjs: the whole CLI and server in one minified ES module (esbuild), so a start
// parses one file instead of resolving and compiling ~400 modules — start-up drops from ~1.1 s to
// ~0.2 s (bench/scenarios/startup.ts measures it). Type checking is `npm run typecheck` (tsc);
// this step only transpiles. Rarely used parts (certificate generation) land in their own chunks,
// loaded on demand; native and optional packages stay in node_modules.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { berth: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  // better-sqlite3 is a native addon; pino-pretty is loaded only for terminals.
  external: ['better-sqlite3', 'pino-pretty'],
  // Bundled CommonJS packages call require(); give the ES module one.
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
  logLevel: 'warning',
});
