#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner (TypeScript through tsx).
// Node 20's --test takes no globs, so the file list is gathered here.
// Usage: node scripts/run-tests.mjs [filter-substring ...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.test.ts')) files.push(relative(root, p));
  }
})(join(root, 'test'));
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error('no test files matched', filters);
  process.exit(1);
}
// Hermetic: the BERTH_* and AWS_* variables of the person running the tests never reach them
// (BERTH_E2E_* are the harness's own switches).
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(BERTH_(?!E2E_)|AWS_)/.test(k)));
const runFiles = (list, extraEnv = {}) => spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...list], {
  cwd: root,
  stdio: 'inherit',
  env: { ...env, ...extraEnv },
}).status ?? 1;
let status = runFiles(selected);
// Every other suite runs berth from source; a whole run (no filter) then drives these client suites
// again against what users run, `node bin/berth.js` (the bundle, its chunks and code caches),
// after the first pass so that test/e2e/bundle.test.ts's rebuild of dist/ is done. A single file
// can be run so with BERTH_E2E_BUNDLE=1 set by hand.
const BUNDLE_SUITES = [
  'skopeo', 'podman', 'getting-started', 'operator', 'tls', // the x509 chunk
  'console-browser', // markdown
  'scan-cli', // the scan chunk
  's3-blobs', 'scale-out', // aws, postgres
].map((name) => `test/e2e/${name}.test.ts`);
if (filters.length === 0 && process.env.BERTH_E2E_BUNDLE === undefined) {
  console.log('# the client suites again, against the bundle (BERTH_E2E_BUNDLE=1: node bin/berth.js)');
  status = runFiles(BUNDLE_SUITES, { BERTH_E2E_BUNDLE: '1' }) || status;
}
process.exit(status);
