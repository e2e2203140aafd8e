/**
 * Every store of a process that opens the same SQLite file shares one connection
 * (src/storage/meta/sqlite/open.ts): the file is opened once however many stores open it, even all at
 * once on a new file; a store's close lets go of its share only; the connection closes with the last
 * one, and the next open opens it again; a failed open leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqlite } from '../../src/storage/meta/sqlite/open.js';
import { openSqliteGcStore } from '../../src/storage/meta/sqlite/sqlite-gc-store.js';
import { openSqliteLifecycleStore } from '../../src/storage/meta/sqlite/sqlite-lifecycle-store.js';
import { openSqliteMetaStore } from '../../src/storage/meta/sqlite/sqlite-meta-store.js';
import { ACCOUNT, k, signal } from './meta-store-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-shared-conn-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `meta-${++files}.db`);

/** Descriptors of this process open on exactly `path`. */
function opened(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

describe('one SQLite connection per file and process', () => {
  it('opens a new file once for stores opened all at once, and closes it with the last store', async () => {
    const path = freshPath();
    const [meta, other, lifecycle, gc] = await Promise.all([
      openSqliteMetaStore({ path }), openSqliteMetaStore({ path }), openSqliteLifecycleStore({ path }), openSqliteGcStore({ path }),
    ]);
    assert.equal(opened(path), 1, 'four stores, one connection');
    await meta.createRepository(k('shared/one'), signal);
    assert.deepEqual(await other.listRepositories(ACCOUNT, { limit: 10 }, signal), ['shared/one'], 'a write through one store is seen through another');
    await meta.close();
    await lifecycle.close();
    await meta.close();
    assert.equal(opened(path), 1, 'closed twice, one store still holds the connection');
    await other.createRepository(k('shared/two'), signal);
    await gc.close();
    await other.close();
    assert.equal(opened(path), 0, 'the last close closes the connection');
    const again = await openSqliteMetaStore({ path });
    try {
      assert.equal(opened(path), 1);
      assert.deepEqual(await again.listRepositories(ACCOUNT, { limit: 10 }, signal), ['shared/one', 'shared/two']);
    } finally {
      await again.close();
    }
  });

  it('gives a store that asks for it a connection of its own, and every in-memory database its own', async () => {
    const path = freshPath();
    const a = await openSqliteMetaStore({ path });
    const b = await openSqliteMetaStore({ path, ownConnection: true });
    try {
      assert.equal(opened(path), 2);
    } finally {
      await a.close();
      await b.close();
    }
    const m1 = await openSqliteMetaStore({ path: ':memory:' });
    const m2 = await openSqliteMetaStore({ path: ':memory:' });
    try {
      await m1.createRepository(k('memory/one'), signal);
      assert.deepEqual(await m2.listRepositories(ACCOUNT, { limit: 10 }, signal), []);
    } finally {
      await m1.close();
      await m2.close();
    }
  });

  it('leaves nothing behind when the file cannot be opened, so a later open starts over', async () => {
    const path = freshPath();
    writeFileSync(path, 'this is not an SQLite database, but it is long enough to have a header page');
    await assert.rejects(Promise.all([openSqlite(path), openSqlite(path)]), /not a database/);
    assert.equal(opened(path), 0);
    rmSync(path);
    const { sql } = await openSqlite(path);
    assert.equal(opened(path), 1);
    sql.close();
    assert.equal(opened(path), 0);
  });
});
