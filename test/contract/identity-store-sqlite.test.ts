import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteIdentityStore } from '../../src/storage/meta/sqlite/sqlite-identity-store.js';
import { openSqliteMetaStore } from '../../src/storage/meta/sqlite/sqlite-meta-store.js';
import { identityStoreContract } from './identity-store.contract.js';
import { ACCOUNT, arnOf, doc, group, key, policy, signal, user, userOwner } from './identity-store-helpers.js';
import { DEFAULT_ACCOUNT_ID } from '../../src/core/ports/meta-store.js';
import { repoKey } from '../../src/core/repo-key.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-identity-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `meta-${++files}.db`);

identityStoreContract('sqlite (file)', () => openSqliteIdentityStore({ path: freshPath() }));
identityStoreContract('sqlite (:memory:)', () => openSqliteIdentityStore({ path: ':memory:' }));

describe('SqliteIdentityStore on a file', () => {
  it('keeps every committed write across close and reopen, and migrating again is a no-op', async () => {
    const path = freshPath();
    const first = await openSqliteIdentityStore({ path });
    const account = await first.ensureAccount(ACCOUNT, signal);
    const u = await first.createUser(user('Alice', { tags: [{ Key: 'k', Value: 'v' }] }), signal);
    const k = await first.createAccessKey(key('Alice'), signal);
    await first.touchAccessKey(k.accessKeyId, new Date(Date.UTC(2024, 3, 1)), signal);
    await first.createGroup(group('Dev'), signal);
    await first.addUserToGroup(ACCOUNT, 'dev', 'alice', signal);
    await first.putInlinePolicy(userOwner('alice'), 'inline', doc('inline'), signal);
    const p = await first.createPolicy(policy('Custom'), doc('v1'), signal);
    await first.createPolicyVersion(arnOf(p), doc('v2'), true, signal);
    await first.attachPolicy(userOwner('alice'), arnOf(p), signal);
    const storedKey = await first.getAccessKey(k.accessKeyId, signal);
    const storedPolicy = await first.getPolicy(arnOf(p), signal);
    await first.close();

    const second = await openSqliteIdentityStore({ path });
    try {
      assert.deepEqual(await second.getAccount(ACCOUNT, signal), account);
      assert.deepEqual(await second.getUser(ACCOUNT, 'alice', signal), u);
      assert.deepEqual(await second.getAccessKey(k.accessKeyId, signal), storedKey);
      assert.equal(storedKey?.lastUsedAt?.getTime(), Date.UTC(2024, 3, 1));
      assert.deepEqual(await second.getPolicy(arnOf(p), signal), storedPolicy);
      assert.equal(storedPolicy?.attachmentCount, 1);
      assert.deepEqual(await second.effectivePolicies(ACCOUNT, 'Alice', signal), { inline: [doc('inline')], attached: [arnOf(p)] });
      assert.equal(await second.defaultPolicyDocument(arnOf(p), signal), doc('v2'));
      assert.equal((await second.createPolicyVersion(arnOf(p), doc('v3'), false, signal)).versionId, 'v3');
    } finally {
      await second.close();
    }
  });

  it('makes a write visible to another identity store on the same file as soon as it resolves', async () => {
    const path = freshPath();
    const a = await openSqliteIdentityStore({ path });
    const b = await openSqliteIdentityStore({ path });
    try {
      await a.ensureAccount(ACCOUNT, signal);
      await a.createUser(user('u'), signal);
      assert.equal((await b.getUser(ACCOUNT, 'u', signal))?.userName, 'u');
      await b.deleteUser(ACCOUNT, 'u', signal);
      assert.equal(await a.getUser(ACCOUNT, 'u', signal), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });

  for (const order of [['meta', 'identity'], ['identity', 'meta']] as const) {
    it(`shares one file with the SqliteMetaStore when the ${order[0]} store opens it first`, async () => {
      const path = freshPath();
      const opened: Array<{ close(): Promise<void> }> = [];
      try {
        const open = { meta: () => openSqliteMetaStore({ path }), identity: () => openSqliteIdentityStore({ path }) };
        for (const which of order) opened.push(await open[which]());
        const meta = await openSqliteMetaStore({ path });
        opened.push(meta);
        const identity = await openSqliteIdentityStore({ path });
        opened.push(identity);
        await meta.createRepository(repoKey(DEFAULT_ACCOUNT_ID, 'library/alpine'), signal);
        await identity.ensureAccount(ACCOUNT, signal);
        await identity.createUser(user('u'), signal);
        assert.deepEqual(await meta.listRepositories(DEFAULT_ACCOUNT_ID, { limit: 10 }, signal), ['library/alpine']);
        assert.equal((await identity.getUser(ACCOUNT, 'U', signal))?.userName, 'u');
      } finally {
        for (const s of opened) await s.close();
      }
    });
  }
});
