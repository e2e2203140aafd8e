import { after } from 'node:test';
import { openPostgresScanStore } from '../../src/storage/meta/postgres/pg-scan-store.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';
import { scanStoreContract, type ScanStoreUnderTest } from './scan-store.contract.js';

const skip = skipReason(POSTGRES_SKIP);
const databases = migratedDatabases();
after(() => databases.dropAll());

/** A store on `url` whose twin is another store instance (cold caches, as on another node) on the same database. */
async function open(url: string): Promise<ScanStoreUnderTest> {
  return Object.assign(await openPostgresScanStore({ url, poolSize: 4 }), { twin: () => open(url) });
}

if (!skip) scanStoreContract('postgres', async () => open((await databases.fresh()).url));
