import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { MemoryLifecycleStore } from '../../src/storage/meta/memory/memory-lifecycle-store.js';
import { MemoryMetaStore } from '../../src/storage/meta/memory/memory-meta-store.js';
import { openSqliteLifecycleStore } from '../../src/storage/meta/sqlite/sqlite-lifecycle-store.js';
import { openSqliteMetaStore } from '../../src/storage/meta/sqlite/sqlite-meta-store.js';
import { lifecycleStoreContract } from './lifecycle-store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-lifecycle-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

lifecycleStoreContract('sqlite (file, beside the metadata store)', async () => {
  const path = join(dir, `meta-${++files}.db`);
  const meta = await openSqliteMetaStore({ path });
  return { meta, store: await openSqliteLifecycleStore({ path }) };
});
lifecycleStoreContract('memory', async () => {
  const meta = new MemoryMetaStore();
  return { meta, store: new MemoryLifecycleStore(meta) };
});
