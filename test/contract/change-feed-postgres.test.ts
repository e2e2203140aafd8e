import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeFeed, ChangeTopic } from '../../src/core/ports/change-feed.js';
import { PgChangeFeed } from '../../src/storage/meta/postgres/pg-change-feed.js';
import { freshPostgres, POSTGRES_SKIP, skipReason } from '../support/servers.js';

/** Resolves with the first key `feed` hears on `topic` that `match` accepts; rejects after `ms`. */
function next(feed: ChangeFeed, topic: ChangeTopic, match: (k: string | undefined) => boolean, ms = 3000): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${topic} change within ${ms} ms`));
    }, ms);
    const off = feed.subscribe(topic, (k) => {
      if (!match(k)) return;
      clearTimeout(timer);
      off();
      resolve(k);
    });
  });
}

describe('PostgreSQL LISTEN/NOTIFY change feed', { skip: skipReason(POSTGRES_SKIP) }, () => {
  it('delivers a change published by one node to every node (itself included) within a second', async () => {
    const pg = await freshPostgres();
    const a = await PgChangeFeed.open({ url: pg.url, poolSize: 2 });
    const b = await PgChangeFeed.open({ url: pg.url, poolSize: 2 });
    try {
      const key = '123456789012/app@sha256:' + 'a'.repeat(64);
      const started = Date.now();
      const heardB = next(b, 'manifest', (k) => k === key, 1000);
      const heardA = next(a, 'manifest', (k) => k === key, 1000);
      const otherTopic = next(b, 'repository', () => true, 300).then(() => 'heard', () => 'silent');
      await a.publish('manifest', key);
      assert.equal(await heardB, key);
      assert.equal(await heardA, key);
      assert.ok(Date.now() - started < 1000);
      assert.equal(await otherTopic, 'silent', 'a listener of another topic is not called');
    } finally {
      await a.close();
      await b.close();
      await pg.drop();
    }
  });

  it('after the listening connection is killed, reconnects, tells listeners to drop everything, and hears changes again', async () => {
    const pg = await freshPostgres();
    const a = await PgChangeFeed.open({ url: pg.url, poolSize: 2 });
    const errors: unknown[] = [];
    const b = await PgChangeFeed.open({ url: pg.url, poolSize: 2, retryMs: 50, onError: (e) => errors.push(e) });
    try {
      const pid = b.listenerPid;
      assert.ok(pid, 'listening connection has a backend pid');
      const reset = next(b, 'policies', (k) => k === undefined, 5000);
      const { default: pgLib } = await import('pg');
      const admin = new pgLib.Client({ connectionString: pg.url });
      await admin.connect();
      try {
        await admin.query('select pg_terminate_backend($1)', [pid]);
      } finally {
        await admin.end();
      }
      assert.equal(await reset, undefined);
      await b.settled();
      assert.notEqual(b.listenerPid, pid, 'a new connection listens');
      const heard = next(b, 'repository', (k) => k === '123456789012/after', 2000);
      await a.publish('repository', '123456789012/after');
      assert.equal(await heard, '123456789012/after');
      assert.ok(errors.length >= 1, 'the lost connection was reported');
    } finally {
      await a.close();
      await b.close();
      await pg.drop();
    }
  });

  it('refuses to publish once closed', async () => {
    const pg = await freshPostgres();
    const a = await PgChangeFeed.open({ url: pg.url, poolSize: 2 });
    await a.close();
    await assert.rejects(a.publish('policies', '*'), /closed/);
    await pg.drop();
  });
});
