import { after } from 'node:test';
import { openPostgresScanStore } from '../../src/storage/meta/postgres/pg-scan-store.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';
import { scanStoreContract } from './scan-store.contract.js';

const skip = skipReason(POSTGRES_SKIP);
const databases = migratedDatabases();
after(() => databases.dropAll());

if (!skip) scanStoreContract('postgres', async () => openPostgresScanStore({ url: (await databases.fresh()).url, poolSize: 4 }));
