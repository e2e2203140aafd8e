/** ECR control-plane parts of the MetaStore contract: repository settings and policies, registry state. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_ACCOUNT_ID, DEFAULT_REPOSITORY_SETTINGS, type MetaStore, type RepositorySettings,
} from '../../src/core/ports/meta-store.js';
import { manifest, pushImage, rejectsWith, signal, k } from './meta-store-helpers.js';

const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const POLICY = '{"Version":"2012-10-17","Statement":[]}';

const CUSTOM: RepositorySettings = {
  imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
  imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest*' }],
  scanOnPush: true,
  encryption: { encryptionType: 'KMS', kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/k' },
  tags: [{ Key: 'team', Value: 'core' }],
};

/** Registers the ECR repository and registry tests; `current` returns the running test's store. */
export function ecrRepositoryContract(current: () => MetaStore): void {
  describe('repository settings', () => {
    it('createRepository without init stores the default account and default settings', async () => {
      const store = current();
      const { repository } = await store.createRepository(k('r'), signal);
      assert.equal(repository.accountId, DEFAULT_ACCOUNT_ID);
      assert.deepEqual(repository.settings, DEFAULT_REPOSITORY_SETTINGS);
      assert.deepEqual(await store.getRepository(k('r'), signal), repository);
    });

    it("createRepository stores the key's account and every given setting, and getRepository returns them", async () => {
      const store = current();
      const { repository } = await store.createRepository(k('r', ACCOUNT), signal, { settings: CUSTOM });
      assert.equal(repository.accountId, ACCOUNT);
      assert.deepEqual(repository.settings, CUSTOM);
      assert.deepEqual(await store.getRepository(k('r', ACCOUNT), signal), repository);
      assert.equal(await store.getRepository(k('r'), signal), undefined);
    });

    it('createRepository fills settings it was not given (or given as undefined) from the defaults', async () => {
      const store = current();
      await store.createRepository(k('r'), signal, { settings: { scanOnPush: true, imageTagMutability: undefined } });
      assert.deepEqual((await store.getRepository(k('r'), signal))?.settings, { ...DEFAULT_REPOSITORY_SETTINGS, scanOnPush: true });
    });

    it('createRepository of an existing name in the same account returns the original settings with created=false', async () => {
      const store = current();
      const first = await store.createRepository(k('r', ACCOUNT), signal, { settings: CUSTOM });
      const again = await store.createRepository(k('r', ACCOUNT), signal, { settings: { scanOnPush: false } });
      assert.equal(again.created, false);
      assert.deepEqual(again.repository, first.repository);
      assert.deepEqual(await store.getRepository(k('r', ACCOUNT), signal), first.repository);
    });

    it('the same name in two accounts is two repositories, each with its own settings, policy and content', async () => {
      const store = current();
      const mine = await store.createRepository(k('team/app', ACCOUNT), signal, { settings: CUSTOM });
      const theirs = await store.createRepository(k('team/app', OTHER), signal);
      assert.equal(mine.created, true);
      assert.equal(theirs.created, true);
      assert.equal(theirs.repository.accountId, OTHER);
      assert.deepEqual(theirs.repository.settings, DEFAULT_REPOSITORY_SETTINGS);
      await store.setRepositoryPolicy(k('team/app', ACCOUNT), POLICY, signal);
      assert.equal(await store.getRepositoryPolicy(k('team/app', OTHER), signal), undefined);
      const { digest } = await pushImage(store, k('team/app', ACCOUNT), 'one', { tag: 'v1' });
      assert.equal(await store.resolveTag(k('team/app', OTHER), 'v1', signal), undefined);
      assert.equal(await store.getManifest(k('team/app', OTHER), digest, signal), undefined);
      assert.equal(await store.getBlobLink(k('team/app', OTHER), digest, signal), undefined);
      assert.deepEqual(await store.listRepositories(ACCOUNT, { limit: 10 }, signal), ['team/app']);
      assert.deepEqual(await store.listRepositories(OTHER, { limit: 10 }, signal), ['team/app']);
      assert.deepEqual(await store.listRepositories(DEFAULT_ACCOUNT_ID, { limit: 10 }, signal), []);
      assert.equal(await store.deleteRepository(k('team/app', OTHER), signal), true);
      assert.equal(await store.resolveTag(k('team/app', ACCOUNT), 'v1', signal), digest);
      const refs = [];
      for await (const r of store.listBlobReferences(signal)) refs.push(r.repository);
      assert.ok(refs.length > 0 && refs.every((r) => r === k('team/app', ACCOUNT)));
    });

    it('returned settings are copies: mutating them changes neither the store nor the defaults', async () => {
      const store = current();
      const { repository } = await store.createRepository(k('r'), signal);
      repository.settings.tags.push({ Key: 'k', Value: 'v' });
      repository.settings.encryption.encryptionType = 'KMS';
      const got = await store.getRepository(k('r'), signal);
      assert.deepEqual(got?.settings, { ...DEFAULT_REPOSITORY_SETTINGS, encryption: { encryptionType: 'AES256' }, tags: [] });
      got?.settings.imageTagMutabilityExclusionFilters.push({ filterType: 'WILDCARD', filter: 'x' });
      assert.deepEqual(DEFAULT_REPOSITORY_SETTINGS.imageTagMutabilityExclusionFilters, []);
      assert.deepEqual((await store.createRepository(k('s'), signal)).repository.settings.tags, []);
    });

    it('updateRepository changes only the patched settings, ignores undefined keys, and keeps the account', async () => {
      const store = current();
      const { repository } = await store.createRepository(k('r', ACCOUNT), signal, { settings: CUSTOM });
      const updated = await store.updateRepository(k('r', ACCOUNT), { imageTagMutability: 'MUTABLE', scanOnPush: undefined }, signal);
      assert.deepEqual(updated, { ...repository, settings: { ...CUSTOM, imageTagMutability: 'MUTABLE' } });
      assert.deepEqual(await store.getRepository(k('r', ACCOUNT), signal), updated);
      const tagged = await store.updateRepository(k('r', ACCOUNT), { tags: [{ Key: 'a', Value: 'b' }] }, signal);
      assert.deepEqual(tagged.settings, { ...CUSTOM, imageTagMutability: 'MUTABLE', tags: [{ Key: 'a', Value: 'b' }] });
    });

    it('updateRepository throws RepositoryNotFound for an unknown repository', async () => {
      await rejectsWith(current().updateRepository(k('nope'), { scanOnPush: true }, signal), 'RepositoryNotFound');
    });

    it("listRepositoryDetails returns the account's repositories with settings in byte order, after `last`, at most `limit`", async () => {
      const store = current();
      for (const n of ['b', 'a/b', 'a', 'c']) await store.createRepository(k(n, ACCOUNT), signal);
      await store.createRepository(k('a0', OTHER), signal);
      await store.updateRepository(k('a/b', ACCOUNT), { scanOnPush: true }, signal);
      const all = await store.listRepositoryDetails(ACCOUNT, { limit: 10 }, signal);
      assert.deepEqual(all.map((r) => r.name), ['a', 'a/b', 'b', 'c']);
      assert.deepEqual(all[1], await store.getRepository(k('a/b', ACCOUNT), signal));
      assert.ok(all.every((r) => r.accountId === ACCOUNT));
      assert.deepEqual((await store.listRepositoryDetails(OTHER, { limit: 10 }, signal)).map((r) => r.name), ['a0']);
      assert.deepEqual((await store.listRepositoryDetails(ACCOUNT, { last: 'a', limit: 2 }, signal)).map((r) => r.name), ['a/b', 'b']);
      assert.deepEqual(await store.listRepositoryDetails(ACCOUNT, { last: 'c', limit: 2 }, signal), []);
      assert.deepEqual(await store.listRepositoryDetails(ACCOUNT, { limit: 0 }, signal), []);
    });
  });

  describe('repository policy', () => {
    it('is undefined until set, then returned, replaced, and removed by setting undefined', async () => {
      const store = current();
      await store.createRepository(k('r'), signal);
      await store.createRepository(k('s'), signal);
      assert.equal(await store.getRepositoryPolicy(k('r'), signal), undefined);
      await store.setRepositoryPolicy(k('r'), POLICY, signal);
      assert.equal(await store.getRepositoryPolicy(k('r'), signal), POLICY);
      assert.equal(await store.getRepositoryPolicy(k('s'), signal), undefined);
      await store.setRepositoryPolicy(k('r'), '{}', signal);
      assert.equal(await store.getRepositoryPolicy(k('r'), signal), '{}');
      await store.setRepositoryPolicy(k('r'), undefined, signal);
      assert.equal(await store.getRepositoryPolicy(k('r'), signal), undefined);
    });

    it('get and set throw RepositoryNotFound for an unknown repository', async () => {
      await rejectsWith(current().getRepositoryPolicy(k('nope'), signal), 'RepositoryNotFound');
      await rejectsWith(current().setRepositoryPolicy(k('nope'), POLICY, signal), 'RepositoryNotFound');
      await rejectsWith(current().setRepositoryPolicy(k('nope'), undefined, signal), 'RepositoryNotFound');
    });

    it('goes with its repository: a recreated repository has none', async () => {
      const store = current();
      await store.createRepository(k('r'), signal);
      await store.setRepositoryPolicy(k('r'), POLICY, signal);
      await store.deleteRepository(k('r'), signal);
      await store.createRepository(k('r'), signal);
      assert.equal(await store.getRepositoryPolicy(k('r'), signal), undefined);
    });
  });

  describe('deleteRepository onlyIfEmpty', () => {
    it('deletes a repository without manifests, even with blob links and uploads', async () => {
      const store = current();
      await store.createRepository(k('r'), signal);
      await store.linkBlob(k('r'), manifest('r', 'x').digest, 1, signal);
      await store.createUpload({ id: 'u1', repository: k('r') }, signal);
      assert.equal(await store.deleteRepository(k('r'), signal, { onlyIfEmpty: true }), true);
      assert.equal(await store.getRepository(k('r'), signal), undefined);
      assert.equal(await store.getUpload(k('r'), 'u1', signal), undefined);
    });

    it('throws RepositoryNotEmpty and deletes nothing while the repository holds a manifest', async () => {
      const store = current();
      const { digest } = await pushImage(store, 'r', 'one', { tag: 'latest' });
      await rejectsWith(store.deleteRepository(k('r'), signal, { onlyIfEmpty: true }), 'RepositoryNotEmpty');
      assert.ok(await store.getRepository(k('r'), signal));
      assert.equal(await store.resolveTag(k('r'), 'latest', signal), digest);
      await store.deleteManifest(k('r'), digest, signal);
      assert.equal(await store.deleteRepository(k('r'), signal, { onlyIfEmpty: true }), true);
    });

    it('resolves false for an unknown repository, and without the option deletes a non-empty one', async () => {
      const store = current();
      assert.equal(await store.deleteRepository(k('nope'), signal, { onlyIfEmpty: true }), false);
      await pushImage(store, 'r', 'one');
      assert.equal(await store.deleteRepository(k('r'), signal, { onlyIfEmpty: false }), true);
      assert.equal(await store.getRepository(k('r'), signal), undefined);
    });
  });

  describe('registry policy and account settings', () => {
    it('registry policy is per account: undefined until set, replaced, removed by undefined', async () => {
      const store = current();
      assert.equal(await store.getRegistryPolicy(ACCOUNT, signal), undefined);
      await store.setRegistryPolicy(ACCOUNT, POLICY, signal);
      assert.equal(await store.getRegistryPolicy(ACCOUNT, signal), POLICY);
      assert.equal(await store.getRegistryPolicy(OTHER, signal), undefined);
      await store.setRegistryPolicy(OTHER, '{}', signal);
      await store.setRegistryPolicy(ACCOUNT, '{"v":2}', signal);
      assert.equal(await store.getRegistryPolicy(ACCOUNT, signal), '{"v":2}');
      await store.setRegistryPolicy(ACCOUNT, undefined, signal);
      assert.equal(await store.getRegistryPolicy(ACCOUNT, signal), undefined);
      assert.equal(await store.getRegistryPolicy(OTHER, signal), '{}');
      await store.setRegistryPolicy(ACCOUNT, undefined, signal);
    });

    it('account settings are kept per account and name, and a put overwrites', async () => {
      const store = current();
      assert.equal(await store.getAccountSetting(ACCOUNT, 'BASIC_SCAN_TYPE_VERSION', signal), undefined);
      await store.putAccountSetting(ACCOUNT, 'BASIC_SCAN_TYPE_VERSION', 'AWS_NATIVE', signal);
      await store.putAccountSetting(ACCOUNT, 'REGISTRY_POLICY_SCOPE', 'V2', signal);
      await store.putAccountSetting(OTHER, 'BASIC_SCAN_TYPE_VERSION', 'CLAIR', signal);
      assert.equal(await store.getAccountSetting(ACCOUNT, 'BASIC_SCAN_TYPE_VERSION', signal), 'AWS_NATIVE');
      assert.equal(await store.getAccountSetting(ACCOUNT, 'REGISTRY_POLICY_SCOPE', signal), 'V2');
      assert.equal(await store.getAccountSetting(OTHER, 'BASIC_SCAN_TYPE_VERSION', signal), 'CLAIR');
      assert.equal(await store.getAccountSetting(OTHER, 'REGISTRY_POLICY_SCOPE', signal), undefined);
      await store.putAccountSetting(ACCOUNT, 'BASIC_SCAN_TYPE_VERSION', 'CLAIR', signal);
      assert.equal(await store.getAccountSetting(ACCOUNT, 'BASIC_SCAN_TYPE_VERSION', signal), 'CLAIR');
    });

    it('registry state does not depend on repositories existing and survives their deletion', async () => {
      const store = current();
      await store.createRepository(k('r', ACCOUNT), signal);
      await store.setRegistryPolicy(ACCOUNT, POLICY, signal);
      await store.putAccountSetting(ACCOUNT, 'BASIC_SCAN_TYPE_VERSION', 'AWS_NATIVE', signal);
      await store.deleteRepository(k('r', ACCOUNT), signal);
      assert.equal(await store.getRegistryPolicy(ACCOUNT, signal), POLICY);
      assert.equal(await store.getAccountSetting(ACCOUNT, 'BASIC_SCAN_TYPE_VERSION', signal), 'AWS_NATIVE');
    });
  });
}
