import { after } from 'node:test';
import type { LifecycleStore } from '../../src/core/ports/lifecycle-store.js';
import type { MetaStore } from '../../src/core/ports/meta-store.js';
import { openPostgresLifecycleStore } from '../../src/storage/meta/postgres/pg-lifecycle-store.js';
import { openPostgresMetaStore } from '../../src/storage/meta/postgres/pg-meta-store.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';
import { lifecycleStoreContract } from './lifecycle-store.contract.js';

const skip = skipReason(POSTGRES_SKIP);
const databases = migratedDatabases();
const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const s of open.splice(0)) await s.close();
  await databases.dropAll();
});

if (!skip) {
  lifecycleStoreContract('postgres (beside the PostgreSQL metadata store)', async (): Promise<{ meta: MetaStore; store: LifecycleStore }> => {
    const { url } = await databases.fresh();
    const meta = await openPostgresMetaStore({ url: `${url}?application_name=meta`, poolSize: 4 });
    const store = await openPostgresLifecycleStore({ url: `${url}?application_name=lifecycle`, poolSize: 4 });
    open.push(meta, store);
    return { meta, store };
  });
}
