#!/usr/bin/env node
// The published entry point: runs the bundled CLI (dist/berth.cjs, built by `npm ci` through the
// `prepare` script; scripts/build.mjs) through a V8 code cache (bin/code-cache.js).
// CommonJS (bin/package.json), although the package is ESM: Node 20 starts a CommonJS entry ~10 ms
// sooner (no ES module loader, no ESM facades of the builtins it imports), and every process pays
// it: each CLI run, the supervisor and each worker.
'use strict';
const { join } = require('node:path');
const { runCached } = require('./code-cache.js');

runCached(join(__dirname, '..', 'dist', 'berth.cjs'));
