/**
 * The SQLite store's tag cache (src/storage/meta/sqlite/tag-cache.ts) must be exactly as fresh as a
 * query: with `--workers N` every worker has its own connection to one file, and a tag pushed or
 * deleted through one must be seen by the very next GET through another (OCI conformance pushes, then
 * pulls on another connection). Each test resolves a tag first, so the entry is cached, then changes
 * it elsewhere and resolves again.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, describe, it } from 'node:test';
import { openSqliteMetaStore, type SqliteMetaStore } from '../../src/storage/meta/sqlite/sqlite-meta-store.js';
import { sameStamp, Statements } from '../../src/storage/meta/sqlite/statements.js';
import { digestOf, k, manifest, signal } from './meta-store-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-tag-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `meta-${++files}.db`);
const child = new URL('../fixtures/sqlite-move-tag.ts', import.meta.url).pathname;

/** `n` stores on one new file, each on a connection of its own (as in `n` processes). */
async function withStores(n: number, work: (path: string, ...stores: SqliteMetaStore[]) => Promise<void>): Promise<void> {
  const path = freshPath();
  const stores: SqliteMetaStore[] = [];
  try {
    for (let i = 0; i < n; i++) stores.push(await openSqliteMetaStore({ path, ownConnection: true }));
    await stores[0]!.createRepository(k('r'), signal);
    await work(path, ...stores);
  } finally {
    for (const s of stores) await s.close();
  }
}

describe('SqliteMetaStore tag cache', () => {
  it('sees a tag moved or deleted through the same store', async () => {
    await withStores(1, async (_path, a) => {
      await a.putManifest(manifest('r', 'one', { tag: 'latest' }), signal);
      assert.equal(await a.resolveTag(k('r'), 'latest', signal), digestOf('manifest:one'));
      assert.equal(await a.resolveTag(k('r'), 'latest', signal), digestOf('manifest:one'));
      await a.putManifest(manifest('r', 'two', { tag: 'latest' }), signal);
      assert.equal(await a.resolveTag(k('r'), 'latest', signal), digestOf('manifest:two'));
      assert.equal(await a.deleteTag(k('r'), 'latest', signal), true);
      assert.equal(await a.resolveTag(k('r'), 'latest', signal), undefined);
    });
  });

  it('sees a tag moved, deleted or its repository deleted through another connection to the file', async () => {
    await withStores(2, async (_path, a, b) => {
      await a.putManifest(manifest('r', 'one', { tag: 'latest' }), signal);
      assert.equal(await b.resolveTag(k('r'), 'latest', signal), digestOf('manifest:one'));
      await a.putManifest(manifest('r', 'two', { tag: 'latest' }), signal);
      assert.equal(await b.resolveTag(k('r'), 'latest', signal), digestOf('manifest:two'));
      assert.equal(await a.deleteTag(k('r'), 'latest', signal), true);
      assert.equal(await b.resolveTag(k('r'), 'latest', signal), undefined);
      await a.putManifest(manifest('r', 'three', { tag: 'v1' }), signal);
      assert.equal(await b.resolveTag(k('r'), 'v1', signal), digestOf('manifest:three'));
      assert.deepEqual(await a.deleteManifest(k('r'), digestOf('manifest:three'), signal), { tags: ['v1'] });
      assert.equal(await b.resolveTag(k('r'), 'v1', signal), undefined);
      await a.putManifest(manifest('r', 'four', { tag: 'v2' }), signal);
      assert.equal(await b.resolveTag(k('r'), 'v2', signal), digestOf('manifest:four'));
      assert.equal(await a.deleteRepository(k('r'), signal), true);
      assert.equal(await b.resolveTag(k('r'), 'v2', signal), undefined);
    });
  });

  it('sees a tag moved or deleted by another process (another worker) at once', async () => {
    await withStores(1, async (path, a) => {
      await a.putManifest(manifest('r', 'one', { tag: 'latest' }), signal);
      assert.equal(await a.resolveTag(k('r'), 'latest', signal), digestOf('manifest:one'));
      execFileSync(process.execPath, ['--import', 'tsx', child, path, 'r', 'two', 'latest']);
      assert.equal(await a.resolveTag(k('r'), 'latest', signal), digestOf('manifest:two'));
      execFileSync(process.execPath, ['--import', 'tsx', child, path, 'r', '-', 'latest']);
      assert.equal(await a.resolveTag(k('r'), 'latest', signal), undefined);
    });
  });
});

describe('Statements.changeStamp', () => {
  it('changes on a commit by another connection and on a write through any wrapper of this one, not on reads', () => {
    const path = freshPath();
    const mine = new Database(path);
    const other = new Database(path);
    try {
      mine.pragma('journal_mode = WAL');
      mine.exec('CREATE TABLE t (v INTEGER)');
      const sql = new Statements(mine);
      const twin = new Statements(mine);
      let last = sql.changeStamp();
      const changed = () => {
        const now = sql.changeStamp();
        const moved = !sameStamp(now, last);
        last = now;
        return moved;
      };
      mine.prepare('SELECT count(*) FROM t').get();
      other.prepare('SELECT count(*) FROM t').get();
      assert.equal(changed(), false, 'reads leave the stamp alone');
      other.prepare('INSERT INTO t VALUES (1)').run();
      assert.equal(changed(), true, 'a commit by another connection');
      assert.equal(changed(), false);
      twin.write(() => undefined);
      assert.equal(changed(), true, 'a write transaction through another wrapper of the same connection');
      sql.read(() => undefined);
      assert.equal(changed(), false, 'a read transaction');
    } finally {
      mine.close();
      other.close();
    }
  });
});
