#!/usr/bin/env node
// Enforces the dependency direction of DESIGN.md §2 on every import in src/:
//   cli → app → http, features → core;  storage/*, auth, crypto → core;  http never imports storage.
//   core imports no fastify, no SQL, no AWS SDK, no fs.
// Hand-rolled (60 lines) because the rule is project-specific and a static import scan is all it needs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname, 'src');
const layerOf = (file) => {
  const rel = relative(root, file);
  if (rel === 'app.ts' || rel === 'app.js') return 'app';
  return rel.split('/')[0] === 'storage' ? 'storage' : rel.split('/')[0];
};
/** Which layers each layer may import (besides itself). */
const allowed = {
  core: [],
  config: [],
  storage: ['core'],
  auth: ['core'],
  crypto: ['core'],
  http: ['core', 'auth'],
  scan: ['core'], lifecycle: ['core'], replication: ['core'], cache: ['core'], events: ['core'],
  web: ['core'],
  app: ['core', 'storage', 'auth', 'crypto', 'http', 'config', 'scan', 'lifecycle', 'replication', 'cache', 'events', 'web'],
  cli: ['app', 'config', 'core'],
};
const coreForbiddenPackages = [/^fastify/, /^better-sqlite3/, /^kysely/, /^pg$/, /^@aws-sdk\//, /^node:fs/, /^fs$/, /^fs\//, /^pino/];

const files = [];
(function walk(d) {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(p);
  }
})(root);

const problems = [];
const importRe = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
for (const file of files) {
  const src = readFileSync(file, 'utf8');
  const from = layerOf(file);
  for (const m of src.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(root)) { problems.push(`${relative(root, file)}: imports outside src: ${spec}`); continue; }
      const to = layerOf(target);
      if (to !== from && !(allowed[from] ?? []).includes(to)) problems.push(`${relative(root, file)}: ${from} must not import ${to} (${spec})`);
    } else if (from === 'core' && coreForbiddenPackages.some((re) => re.test(spec))) {
      problems.push(`${relative(root, file)}: core must not import ${spec}`);
    }
  }
}
if (problems.length) {
  console.error(`dependency rule violations (DESIGN.md §2):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dependency rules: ${files.length} files checked, no violations`);
