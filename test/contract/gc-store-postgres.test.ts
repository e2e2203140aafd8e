import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../src/core/errors.js';
import { openPostgresGcStore } from '../../src/storage/meta/postgres/pg-gc-store.js';
import { openPostgresMetaStore } from '../../src/storage/meta/postgres/pg-meta-store.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';
import { gcStoreContract } from './gc-store.contract.js';
import { digestOf, k, signal } from './meta-store-helpers.js';

const skip = skipReason(POSTGRES_SKIP);
const databases = migratedDatabases();
after(() => databases.dropAll());
/** A distinct application_name gives a pool of its own on the same database: another node. */
const on = (url: string, name: string) => ({ url: `${url}?application_name=${name}`, poolSize: 4 });

if (!skip) {
  gcStoreContract('postgres (beside the PostgreSQL metadata store)', async () => {
    const { url } = await databases.fresh();
    const meta = await openPostgresMetaStore(on(url, 'meta'));
    const store = await openPostgresGcStore(on(url, 'gc'));
    return {
      meta, store,
      async close() {
        await store.close();
        await meta.close();
      },
    };
  });
}

describe('PgGcStore against pushes on another node', { skip }, () => {
  it('a fence and a link of the same digest racing on two nodes never both win', async () => {
    const { url } = await databases.fresh();
    const meta = await openPostgresMetaStore(on(url, 'push-node'));
    const store = await openPostgresGcStore(on(url, 'gc-node'));
    try {
      await meta.createRepository(k('r'), signal);
      const digests = Array.from({ length: 60 }, (_, i) => digestOf(`race-${i}`));
      const outcomes = await Promise.all(digests.map(async (d) => {
        const [fenced, link] = await Promise.all([
          store.fence([d], new Date(), signal),
          meta.linkBlob(k('r'), d, 1, signal).then(() => 'linked', (e: unknown) => {
            if (isBerthError(e) && e.code === 'Unavailable') return 'refused';
            throw e;
          }),
        ]);
        return { fenced: fenced.length === 1, linked: link === 'linked' };
      }));
      for (const [i, o] of outcomes.entries()) {
        assert.ok(o.fenced !== o.linked, `digest ${i}: fenced ${o.fenced}, linked ${o.linked}`);
        assert.equal((await meta.getBlobLink(k('r'), digests[i]!, signal)) !== undefined, o.linked);
      }
    } finally {
      await store.close();
      await meta.close();
    }
  });
});
