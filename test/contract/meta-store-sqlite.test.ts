import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteMetaStore } from '../../src/storage/meta/sqlite/sqlite-meta-store.js';
import { metaStoreContract } from './meta-store.contract.js';
import { digestOf, manifest, signal } from './meta-store-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-meta-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `meta-${++files}.db`);

metaStoreContract('sqlite (file)', () => openSqliteMetaStore({ path: freshPath() }));
metaStoreContract('sqlite (:memory:)', () => openSqliteMetaStore({ path: ':memory:' }));

describe('SqliteMetaStore on a file', () => {
  it('keeps every committed write across close and reopen, and migrating again is a no-op', async () => {
    const path = freshPath();
    const first = await openSqliteMetaStore({ path });
    await first.createRepository('r', signal);
    await first.linkBlob('r', digestOf('layer'), 7, signal);
    const input = manifest('r', 'one', { blobs: [digestOf('layer')], tag: 'latest', annotations: { a: 'b' } });
    await first.putManifest(input, signal);
    await first.createUpload({ id: 'u1', repository: 'r' }, signal);
    await first.advanceUpload('r', 'u1', 0, 5, signal);
    const stored = await first.getManifest('r', input.digest, signal);
    await first.close();

    const second = await openSqliteMetaStore({ path });
    try {
      assert.deepEqual(await second.listRepositories({ limit: 10 }, signal), ['r']);
      assert.deepEqual(await second.getBlobLink('r', digestOf('layer'), signal), { size: 7 });
      assert.deepEqual(await second.getManifest('r', input.digest, signal), stored);
      assert.equal(await second.resolveTag('r', 'latest', signal), input.digest);
      assert.equal((await second.getUpload('r', 'u1', signal))?.size, 5);
    } finally {
      await second.close();
    }
  });

  it('makes a write visible to another store opened on the same file as soon as it resolves', async () => {
    const path = freshPath();
    const a = await openSqliteMetaStore({ path });
    const b = await openSqliteMetaStore({ path });
    try {
      await a.createRepository('r', signal);
      await a.putManifest(manifest('r', 'one', { tag: 'latest' }), signal);
      assert.equal(await b.resolveTag('r', 'latest', signal), digestOf('manifest:one'));
      assert.equal(await b.deleteRepository('r', signal), true);
      assert.equal(await a.getRepository('r', signal), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
