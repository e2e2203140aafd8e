/**
 * Fresh, already migrated PostgreSQL databases for contract suites that open a store per test.
 * Migrating an empty database costs about a second; copying a migrated template costs a third of
 * that, so a suite of 70 tests spends half a minute on databases instead of two. The template is
 * made with {@link freshPostgres} and migrated by the production code ({@link openPostgres}), so
 * every copy is exactly what a node would find after migrating.
 */
import { randomBytes } from 'node:crypto';
import { openPostgres } from '../../src/storage/meta/postgres/open.js';
import { freshPostgres, POSTGRES_SKIP, type TestPostgres } from './servers.js';

export interface MigratedDatabases {
  /** A new database with every migration applied. */
  fresh(): Promise<TestPostgres>;
  /** Drops every database handed out, and the template. */
  dropAll(): Promise<void>;
}

export function migratedDatabases(): MigratedDatabases {
  let template: Promise<TestPostgres> | undefined;
  const made: TestPostgres[] = [];
  const admin = async () => {
    const url = process.env.BERTH_E2E_POSTGRES_URL;
    if (!url) throw new Error(POSTGRES_SKIP);
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return client;
  };
  return {
    async fresh() {
      template ??= (async () => {
        const t = await freshPostgres();
        const h = await openPostgres({ url: t.url, poolSize: 2 });
        await h.close();
        return t;
      })();
      const t = await template;
      const name = `berth_t_${randomBytes(6).toString('hex')}`;
      const client = await admin();
      try {
        await client.query(`create database ${name} template ${new URL(t.url).pathname.slice(1)}`);
      } finally {
        await client.end();
      }
      const url = new URL(t.url);
      url.pathname = `/${name}`;
      const db: TestPostgres = {
        url: url.toString(),
        async drop() {
          const c = await admin();
          try {
            await c.query(`drop database if exists ${name} with (force)`);
          } finally {
            await c.end();
          }
        },
      };
      made.push(db);
      return db;
    },
    async dropAll() {
      for (const d of made.splice(0)) await d.drop();
      if (template) await (await template).drop();
      template = undefined;
    },
  };
}
