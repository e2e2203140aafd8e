/**
 * Contract of the PublicRegistryStore and LoginProfileStore ports: every implementation runs it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoginProfileStore } from '../../src/core/ports/login-profiles.js';
import type { PublicRegistryStore, PublicRepositoryRecord } from '../../src/core/ports/public-registry.js';

const signal = AbortSignal.timeout(60_000);
const catalog = (description: string, architectures: string[] = []) => ({ description, aboutText: '', usageText: '', architectures, operatingSystems: ['Linux'] });
const record = (name: string, description = '', architectures: string[] = [], accountId = '000000000000'): Omit<PublicRepositoryRecord, 'logo'> => ({
  accountId, name, shortName: name.slice(name.indexOf('/') + 1), catalog: catalog(description, architectures), createdAt: new Date(1_700_000_000_000),
});

export function publicRegistryContract(make: () => Promise<PublicRegistryStore>): void {
  describe('PublicRegistryStore contract', () => {
    it('aliases: assign, look up both ways, rename, and refuse another account\'s alias', async () => {
      const s = await make();
      assert.equal(await s.getAlias('000000000000', signal), undefined);
      await s.setAlias('000000000000', 'first', signal);
      await s.setAlias('000000000000', 'first', signal);
      assert.equal(await s.accountOfAlias('first', signal), '000000000000');
      await assert.rejects(s.setAlias('111111111111', 'first', signal), (e: { code?: string }) => e.code === 'EntityAlreadyExists');
      await s.setAlias('000000000000', 'second', signal);
      assert.equal(await s.getAlias('000000000000', signal), 'second');
      assert.equal(await s.accountOfAlias('first', signal), undefined);
      await s.setDisplayName('000000000000', 'Corp', signal);
      assert.equal(await s.getDisplayName('000000000000', signal), 'Corp');
      assert.equal(await s.getDisplayName('111111111111', signal), '');
    });

    it('repositories: put keeps the creation time and logo unless told, delete, get', async () => {
      const s = await make();
      await s.putRepository(record('a/web', 'web server'), { bytes: Buffer.from([1, 2, 3]), contentType: 'image/png' }, signal);
      const first = await s.getRepository('a/web', signal);
      assert.equal(first?.shortName, 'web');
      assert.equal(first?.logo?.contentType, 'image/png');
      await s.putRepository({ ...record('a/web', 'changed'), createdAt: new Date(0) }, undefined, signal);
      const second = await s.getRepository('a/web', signal);
      assert.equal(second?.catalog.description, 'changed');
      assert.equal(second?.createdAt.getTime(), 1_700_000_000_000);
      assert.deepEqual((await s.getLogo('a/web', signal))?.bytes, Buffer.from([1, 2, 3]));
      await s.putRepository(record('a/web', 'changed'), null, signal);
      assert.equal(await s.getLogo('a/web', signal), undefined);
      assert.equal(await s.deleteRepository('a/web', signal), true);
      assert.equal(await s.deleteRepository('a/web', signal), false);
      assert.equal(await s.getRepository('a/web', signal), undefined);
    });

    it('search: every word in name or description (case-insensitive, no wildcards), exact badges, paging, counting, per account', async () => {
      const s = await make();
      await s.putRepository(record('a/web', 'Fast HTTP server', ['x86-64']), undefined, signal);
      await s.putRepository(record('a/proxy', 'HTTP proxy', ['ARM 64']), undefined, signal);
      await s.putRepository(record('a/db_x', 'database 100%', ['ARM']), undefined, signal);
      await s.putRepository(record('b/other', 'http', ['x86-64'], '111111111111'), undefined, signal);
      const names = async (f: Parameters<PublicRegistryStore['listRepositories']>[0]) => (await s.listRepositories(f, signal)).map((r) => r.name);
      assert.deepEqual(await names({ query: 'http', limit: 10 }), ['a/proxy', 'a/web', 'b/other']);
      assert.deepEqual(await names({ query: 'HTTP server', limit: 10 }), ['a/web']);
      assert.deepEqual(await names({ query: '%', limit: 10 }), ['a/db_x']);
      assert.deepEqual(await names({ query: '_', limit: 10 }), ['a/db_x']);
      assert.deepEqual(await names({ architecture: 'ARM', limit: 10 }), ['a/db_x']);
      assert.deepEqual(await names({ accountId: '111111111111', limit: 10 }), ['b/other']);
      assert.deepEqual(await names({ limit: 2 }), ['a/db_x', 'a/proxy']);
      assert.deepEqual(await names({ limit: 2, last: 'a/proxy' }), ['a/web', 'b/other']);
      assert.equal(await s.countRepositories({ query: 'http' }, signal), 3);
      assert.equal(await s.countRepositories({ operatingSystem: 'Windows' }, signal), 0);
    });
  });
}

export function loginProfileContract(make: () => Promise<LoginProfileStore>): void {
  describe('LoginProfileStore contract', () => {
    it('create once, put replaces, delete, and root ("") is its own profile', async () => {
      const s = await make();
      const p = { accountId: '000000000000', userName: 'alice', passwordHash: 'h1', passwordResetRequired: true, createdAt: new Date(1000) };
      await s.create(p, signal);
      await assert.rejects(s.create(p, signal), (e: { code?: string }) => e.code === 'EntityAlreadyExists');
      await s.put({ ...p, passwordHash: 'h2', passwordResetRequired: false }, signal);
      const got = await s.get('000000000000', 'alice', signal);
      assert.equal(got?.passwordHash, 'h2');
      assert.equal(got?.passwordResetRequired, false);
      assert.equal(await s.get('000000000000', '', signal), undefined);
      await s.put({ ...p, userName: '' }, signal);
      assert.equal((await s.get('000000000000', '', signal))?.passwordHash, 'h1');
      assert.equal(await s.delete('000000000000', 'alice', signal), true);
      assert.equal(await s.delete('000000000000', 'alice', signal), false);
      assert.equal(await s.get('111111111111', '', signal), undefined);
    });
  });
}
