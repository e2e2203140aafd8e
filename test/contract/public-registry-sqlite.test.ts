import { after } from 'node:test';
import { openSqliteLoginProfiles } from '../../src/storage/meta/sqlite/sqlite-login-profiles.js';
import { openSqlitePublicRegistry } from '../../src/storage/meta/sqlite/sqlite-public-registry.js';
import { loginProfileContract, publicRegistryContract } from './public-registry.contract.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

publicRegistryContract(async () => {
  const s = await openSqlitePublicRegistry({ path: ':memory:' });
  closers.push(() => s.close());
  return s;
});
loginProfileContract(async () => {
  const s = await openSqliteLoginProfiles({ path: ':memory:' });
  closers.push(() => s.close());
  return s;
});
