#!/usr/bin/env node
// The published entry point: runs the bundled CLI (built by `npm ci` through the `prepare` script; scripts/build.mjs).
import '../dist/berth.mjs';
