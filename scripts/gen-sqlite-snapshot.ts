// Rewrites src/storage/meta/sqlite/schema-snapshot-data.ts: the SQLite schema all metadata migrations
// build (src/storage/meta/sqlite/schema-snapshot.ts). Run after adding a migration:
//   node --import tsx scripts/gen-sqlite-snapshot.ts
import { writeFileSync } from 'node:fs';
import { sqliteSchemaSnapshotSource } from '../src/storage/meta/sqlite/schema-snapshot-gen.js';

const file = new URL('../src/storage/meta/sqlite/schema-snapshot-data.ts', import.meta.url).pathname;
writeFileSync(file, await sqliteSchemaSnapshotSource());
console.log(`wrote ${file}`);
