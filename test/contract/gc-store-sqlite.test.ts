import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openSqliteGcStore } from '../../src/storage/meta/sqlite/sqlite-gc-store.js';
import { openSqliteMetaStore } from '../../src/storage/meta/sqlite/sqlite-meta-store.js';
import { gcStoreContract } from './gc-store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-gc-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

gcStoreContract('sqlite (file, beside the metadata store)', async () => {
  const path = join(dir, `meta-${++files}.db`);
  const meta = await openSqliteMetaStore({ path });
  const store = await openSqliteGcStore({ path });
  return {
    meta, store,
    async close() {
      await store.close();
      await meta.close();
    },
  };
});
