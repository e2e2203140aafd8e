import type { ScanSchema } from '../../src/storage/meta/migrations/scan-schema.js';
import { openSqlite } from '../../src/storage/meta/sqlite/open.js';
import { SqliteScanStore } from '../../src/storage/meta/sqlite/sqlite-scan-store.js';
import { scanStoreContract } from './scan-store.contract.js';

scanStoreContract('sqlite (:memory:)', async () => {
  const { db, sql } = await openSqlite<ScanSchema>(':memory:');
  const store = new SqliteScanStore(db, sql);
  // A twin is a second store instance over the same database: caches cold, as on another node.
  const twin = async () => Object.assign(new SqliteScanStore(db, sql), { close: async () => {}, twin });
  return Object.assign(store, { close: () => db.destroy(), twin });
});
