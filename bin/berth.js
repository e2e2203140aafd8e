#!/usr/bin/env node
// The published entry point: runs the bundled CLI (dist/berth.cjs, built by `npm ci` through the
// `prepare` script; scripts/build.mjs) through a V8 code cache (bin/code-cache.js). A `serve` that
// will supervise workers forks its first one before that (bin/prefork.js).
import { fileURLToPath } from 'node:url';
import { runCached } from './code-cache.js';
import { preforkServeWorker } from './prefork.js';

preforkServeWorker(process.argv.slice(2), process.env);
runCached(fileURLToPath(new URL('../dist/berth.cjs', import.meta.url)));
