import { after, describe } from 'node:test';
import { PgSharedLimits } from '../../src/storage/meta/postgres/pg-shared-limits.js';
import { freshPostgres, POSTGRES_SKIP, skipReason, type TestPostgres } from '../support/servers.js';
import { sharedLimitsContract } from './shared-limits.contract.js';

describe('shared limits: PostgreSQL (every node on one table)', { skip: skipReason(POSTGRES_SKIP) }, () => {
  const dbs: TestPostgres[] = [];
  after(async () => {
    for (const db of dbs) await db.drop();
  });
  sharedLimitsContract(async () => {
    const db = await freshPostgres();
    dbs.push(db);
    // A pool of 4, so the concurrent takes of the race test run on separate server connections.
    const store = await PgSharedLimits.open({ url: db.url, poolSize: 4 });
    return { buckets: store, failures: store, close: () => store.close() };
  });
});
