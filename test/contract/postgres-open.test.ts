import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { metaMigrations, POSTGRES_TYPES } from '../../src/storage/meta/migrations/index.js';
import { openPostgres } from '../../src/storage/meta/postgres/open.js';
import { freshPostgres, POSTGRES_SKIP, skipReason } from '../support/servers.js';

describe('PostgreSQL metadata database', { skip: skipReason(POSTGRES_SKIP) }, () => {
  it('applies every migration once even when several nodes open a fresh database at once', async () => {
    const pg = await freshPostgres();
    try {
      const handles = await Promise.all([1, 2, 3, 4].map(() => openPostgres({ url: pg.url, poolSize: 2 })));
      try {
        const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(handles[0]!.db);
        const names = rows.map((r) => r.name);
        // Every registered migration, each once (0010 of issue 11 and 0013 of issue 10 included).
        assert.deepEqual(names, Object.keys(metaMigrations(POSTGRES_TYPES)).sort());
        const advisories = await sql<{ n: number }>`select count(*)::int as n from scan_advisories`.execute(handles[0]!.db);
        assert.equal(advisories.rows[0]?.n, 0, 'migration 0013 made scan_advisories');
      } finally {
        await Promise.all(handles.map((h) => h.close()));
      }
    } finally {
      await pg.drop();
    }
  });

  it('opens with a pool of one connection (the migration lock and the migrations share it)', async () => {
    const pg = await freshPostgres();
    try {
      const handle = await openPostgres({ url: pg.url, poolSize: 1 });
      try {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(handle.db);
        assert.ok((rows[0]?.n ?? 0) >= 8);
      } finally {
        await handle.close();
      }
    } finally {
      await pg.drop();
    }
  });
});
