import { openSqliteKeyStore } from '../../src/storage/meta/sqlite/sqlite-key-store.js';
import { keyStoreContract } from './key-store.contract.js';

keyStoreContract('sqlite (:memory:)', () => openSqliteKeyStore({ path: ':memory:' }));
