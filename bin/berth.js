#!/usr/bin/env node
// The published entry point: runs the bundled CLI (dist/berth.cjs, built by `npm ci` through the
// `prepare` script; scripts/build.mjs) through a V8 code cache (bin/code-cache.js).
import { fileURLToPath } from 'node:url';
import { runCached } from './code-cache.js';

runCached(fileURLToPath(new URL('../dist/berth.cjs', import.meta.url)));
