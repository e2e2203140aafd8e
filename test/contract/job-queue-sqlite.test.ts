import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { ScanSchema } from '../../src/storage/meta/migrations/scan-schema.js';
import { openSqlite } from '../../src/storage/meta/sqlite/open.js';
import { SqliteJobQueue } from '../../src/storage/meta/sqlite/sqlite-job-queue.js';
import { makeTempDir } from '../e2e/harness.js';
import { jobQueueContract } from './job-queue.contract.js';

jobQueueContract('SQLite (file, reopened)', {
  async open(clock) {
    const dir = makeTempDir('berth-jobs-');
    const path = join(dir, 'meta.db');
    const dbs: Kysely<ScanSchema>[] = [];
    const make = async () => {
      const { db, sql } = await openSqlite<ScanSchema>(path);
      dbs.push(db);
      return new SqliteJobQueue(db, sql, () => clock.now);
    };
    const queue = await make();
    return {
      queue,
      reopen: make,
      async close() {
        for (const db of dbs) await db.destroy();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});
