import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalSingletonLock } from '../../src/core/ports/singleton-lock.js';
import { PgSingletonLock } from '../../src/storage/meta/postgres/pg-singleton-lock.js';
import { freshPostgres, POSTGRES_SKIP, skipReason } from '../support/servers.js';

describe('singleton schedules: one node', () => {
  it('always runs the task and returns its value', async () => {
    const lock = new LocalSingletonLock();
    assert.deepEqual(await lock.runExclusive('gc', async () => 7), { ran: true, value: 7 });
  });
});

describe('singleton schedules: PostgreSQL advisory locks', { skip: skipReason(POSTGRES_SKIP) }, () => {
  it('while one node runs a pass, another node skips it; afterwards the other node gets it; names are independent', async () => {
    const pg = await freshPostgres();
    // Two processes' worth of locks would be two pools; here both share the process's pool, and
    // each pass holds a connection of its own, which is what advisory session locks are bound to.
    const a = await PgSingletonLock.open({ url: pg.url, poolSize: 4 });
    const b = await PgSingletonLock.open({ url: pg.url, poolSize: 4 });
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const first = a.runExclusive('gc', async () => {
        await gate;
        return 'a';
      });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await b.runExclusive('gc', async () => 'b'), { ran: false }, 'the held lock is not granted twice');
      assert.deepEqual(await b.runExclusive('lifecycle', async () => 'other'), { ran: true, value: 'other' }, 'another schedule is independent');
      release();
      assert.deepEqual(await first, { ran: true, value: 'a' });
      assert.deepEqual(await b.runExclusive('gc', async () => 'b'), { ran: true, value: 'b' }, 'released after the pass');
    } finally {
      await a.close();
      await b.close();
      await pg.drop();
    }
  });

  it('a pass that throws releases the lock and passes the error on', async () => {
    const pg = await freshPostgres();
    const a = await PgSingletonLock.open({ url: pg.url, poolSize: 2 });
    try {
      await assert.rejects(a.runExclusive('gc', async () => {
        throw new Error('boom');
      }), /boom/);
      assert.deepEqual(await a.runExclusive('gc', async () => 1), { ran: true, value: 1 });
    } finally {
      await a.close();
      await pg.drop();
    }
  });
});
