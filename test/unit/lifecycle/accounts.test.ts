/**
 * The archive gate and pull-time exclusions with two accounts that both have a repository `app`:
 * state and exclusions belong to the account that owns the repository, never to the default one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asDigest } from '../../../src/core/digest.js';
import { isBerthError } from '../../../src/core/errors.js';
import { refOf } from '../../../src/core/lifecycle.js';
import { repoKey } from '../../../src/core/repo-key.js';
import { ArchiveAndPullTimes } from '../../../src/lifecycle/archive.js';
import { MemoryLifecycleStore } from '../../../src/storage/meta/memory/memory-lifecycle-store.js';
import { MemoryMetaStore } from '../../../src/storage/meta/memory/memory-meta-store.js';

const signal = new AbortController().signal;
const A = repoKey('000000000000', 'app');
const B = repoKey('111111111111', 'app');
const digest = asDigest(`sha256:${'ab'.repeat(32)}`);
const scanner = 'arn:aws:iam::222222222222:user/scanner';

async function setup() {
  const meta = new MemoryMetaStore();
  const store = new MemoryLifecycleStore(meta);
  for (const repository of [A, B]) {
    await meta.createRepository(repository, signal);
    await meta.putManifest({ repository, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', body: new TextEncoder().encode('{}'), imageSize: 0, blobs: [], manifests: [] }, signal);
  }
  return new ArchiveAndPullTimes(meta, store, undefined, () => new Date());
}

describe('lifecycle across accounts', () => {
  it('archiving an image in one account leaves the same digest in the same-named repository of another pullable', async () => {
    const gate = await setup();
    assert.equal(await gate.updateStorageClass(refOf(B), digest, 'ARCHIVE', signal), 'ARCHIVED');
    await assert.rejects(gate.assertPullable(B, digest, signal), (e: unknown) => isBerthError(e) && e.code === 'ImageArchived' && /--registry-id 111111111111/.test(e.message));
    await gate.assertPullable(A, digest, signal);
  });

  it('a pull-time exclusion applies to pulls from the registering account\'s repositories only', async () => {
    const gate = await setup();
    await gate.register('111111111111', scanner, signal);
    assert.equal(await gate.recordsPullsBy(B, scanner, signal), false);
    assert.equal(await gate.recordsPullsBy(A, scanner, signal), true);
    assert.equal(await gate.recordsPullsBy(B, 'arn:aws:iam::222222222222:user/other', signal), true);
    assert.equal(await gate.recordsPullsBy(B, undefined, signal), true);
  });
});
