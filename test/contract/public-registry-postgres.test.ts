import { after } from 'node:test';
import { openPostgresLoginProfiles } from '../../src/storage/meta/postgres/pg-login-profiles.js';
import { openPostgresPublicRegistry } from '../../src/storage/meta/postgres/pg-public-registry.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';
import { loginProfileContract, publicRegistryContract } from './public-registry.contract.js';

const skip = skipReason(POSTGRES_SKIP);
const databases = migratedDatabases();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.splice(0)) await c();
  await databases.dropAll();
});

if (!skip) {
  publicRegistryContract(async () => {
    const s = await openPostgresPublicRegistry({ url: (await databases.fresh()).url, poolSize: 4 });
    closers.push(() => s.close());
    return s;
  });
  loginProfileContract(async () => {
    const s = await openPostgresLoginProfiles({ url: (await databases.fresh()).url, poolSize: 4 });
    closers.push(() => s.close());
    return s;
  });
}
