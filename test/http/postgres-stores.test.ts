/**
 * storage.meta: postgres puts EVERY metadata store on the shared database — identity, lifecycle,
 * GC, public registry, login profiles, job queue and scans — so another node on the same database
 * sees a node's writes, and nothing silently lands in memory or a node-local SQLite file.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createApp, openDataBackends, openLifecycleBackends, openPublicStores } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { PgGcStore } from '../../src/storage/meta/postgres/pg-gc-store.js';
import { openPostgresIdentityStore, PgIdentityStore } from '../../src/storage/meta/postgres/pg-identity-store.js';
import { openPostgresJobQueue, PgJobQueue } from '../../src/storage/meta/postgres/pg-job-queue.js';
import { PgLifecycleStore } from '../../src/storage/meta/postgres/pg-lifecycle-store.js';
import { PgLoginProfiles } from '../../src/storage/meta/postgres/pg-login-profiles.js';
import { openPostgresPublicRegistry, PgPublicRegistry } from '../../src/storage/meta/postgres/pg-public-registry.js';
import { openPostgresScanStore, PgScanStore } from '../../src/storage/meta/postgres/pg-scan-store.js';
import { makeTempDir } from '../e2e/harness.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';

const skip = skipReason(POSTGRES_SKIP);
const databases = migratedDatabases();
after(() => databases.dropAll());
const signal = () => AbortSignal.timeout(30_000);

describe('storage.meta: postgres', { skip }, () => {
  it('every store of a node is the PostgreSQL one, and its writes are read by another node on the same database', async () => {
    const { url } = await databases.fresh();
    const config = validateConfig({
      storage: { meta: 'postgres', blob: 'memory' }, log: { level: 'silent' }, dataDir: makeTempDir('berth-pg-node-'),
      postgres: { url: `${url}?application_name=node-a`, poolSize: 4 },
    });
    const app = await createApp(config, { logger: pino({ level: 'silent' }), env: { BERTH_MASTER_KEY: randomBytes(32).toString('base64') } });
    // The other node's stores: pools of their own on the same database.
    const other = { url: `${url}?application_name=node-b`, poolSize: 4 };
    const identity = await openPostgresIdentityStore(other);
    const jobs = await openPostgresJobQueue(other);
    const [publicRegistry, scans] = [await openPostgresPublicRegistry(other), await openPostgresScanStore(other)];
    try {
      assert.ok(app.identity instanceof PgIdentityStore);
      assert.ok(app.scan.jobs instanceof PgJobQueue);
      assert.ok(app.scan.scans instanceof PgScanStore);
      assert.ok(app.gc, 'garbage collection runs on postgres');
      assert.equal(existsSync(join(config.dataDir, 'meta.db')), false, 'no node-local metadata file');

      // The root account and key the node made at start, and a user it adds, are the other node's too.
      assert.ok(await identity.getAccessKey(app.rootCredentials.accessKeyId, signal()));
      await app.identity.createUser({ accountId: config.accountId, userName: 'alice', userId: 'AIDAPGSTORESTEST0001', path: '/', createdAt: new Date(), tags: [] }, signal());
      assert.equal((await identity.getUser(config.accountId, 'ALICE', signal()))?.userName, 'alice');
      // One job queue for all nodes.
      const job = await app.scan.jobs.enqueue({ kind: 'pg-stores-test', payload: 1 }, signal());
      assert.equal((await jobs.claim(['pg-stores-test'], 'node-b', 60_000, signal()))?.id, job.id);
      // The public alias the node assigned at start (a generated one: none is configured).
      assert.match((await publicRegistry.getAlias(config.accountId, signal())) ?? '', /^[a-z0-9]/);
      await app.scan.scans.putRegistryConfig(config.accountId, { scanType: 'ENHANCED', rules: [] }, signal());
      assert.equal((await scans.getRegistryConfig(config.accountId, signal()))?.scanType, 'ENHANCED');
    } finally {
      for (const s of [identity, jobs, publicRegistry, scans]) await s.close();
      await app.close();
    }
  });

  it('the lifecycle, GC, public-registry and login-profile stores a CLI run opens are the PostgreSQL ones', async () => {
    const { url } = await databases.fresh();
    const config = validateConfig({ storage: { meta: 'postgres', blob: 'memory' }, log: { level: 'silent' }, dataDir: makeTempDir('berth-pg-cli-'), postgres: { url } });
    const { meta, blobs } = await openDataBackends(config);
    const { lifecycleStore, gcStore } = await openLifecycleBackends(config, meta);
    const { publicRegistry, loginProfiles } = await openPublicStores(config);
    try {
      assert.ok(lifecycleStore instanceof PgLifecycleStore);
      assert.ok(gcStore instanceof PgGcStore);
      assert.ok(publicRegistry instanceof PgPublicRegistry);
      assert.ok(loginProfiles instanceof PgLoginProfiles);
    } finally {
      await gcStore?.close();
      await lifecycleStore.close();
      await publicRegistry.close();
      await loginProfiles.close();
      await meta.close();
      await blobs.close();
    }
  });
});
