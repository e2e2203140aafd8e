import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
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
        assert.ok(names.includes('0001-initial') && names.includes('0009-public'), names.join(','));
        assert.equal(new Set(names).size, names.length);
      } finally {
        await Promise.all(handles.map((h) => h.close()));
      }
    } finally {
      await pg.drop();
    }
  });
});
