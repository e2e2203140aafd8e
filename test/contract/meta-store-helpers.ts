/** Shared fixtures of the MetaStore contract suite. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { asDigest, type Digest } from '../../src/core/digest.js';
import { isBerthError, type ErrorCode } from '../../src/core/errors.js';
import { DEFAULT_ACCOUNT_ID, type MetaStore, type PutManifestInput } from '../../src/core/ports/meta-store.js';
import { repoKey, type RepoKey } from '../../src/core/repo-key.js';

export const signal = new AbortController().signal;

/** The account the suite's repositories live in, unless a test names another. */
export const ACCOUNT = DEFAULT_ACCOUNT_ID;

/** The key of repository `name` (in {@link ACCOUNT} unless another account is given). */
export function k(name: string, accountId: string = ACCOUNT): RepoKey {
  return repoKey(accountId, name);
}

const keyOf = (r: string | RepoKey): RepoKey => (/^\d{12}\//.test(r) ? (r as RepoKey) : k(r));
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** A stable fake digest for a label. */
export function digestOf(label: string): Digest {
  return asDigest(`sha256:${createHash('sha256').update(label).digest('hex')}`);
}

/** A manifest input with a body derived from `label`; no blobs (and image size 0) unless `extra` adds them. */
export function manifest(repository: string | RepoKey, label: string, extra: Partial<PutManifestInput> = {}): PutManifestInput {
  return {
    repository: keyOf(repository),
    digest: digestOf(`manifest:${label}`),
    mediaType: OCI_MANIFEST,
    body: new TextEncoder().encode(`{"schemaVersion":2,"label":"${label}"}`),
    imageSize: 0,
    blobs: [],
    manifests: [],
    ...extra,
  };
}

/** Drains an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Asserts `p` rejects with a BerthError of `code` whose detail includes `detail`. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode, detail?: Record<string, unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isBerthError(e), `expected a BerthError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (detail) for (const [k, v] of Object.entries(detail)) assert.deepEqual(e.detail?.[k], v);
    return true;
  });
}

/**
 * Pushes a repository with two linked blobs (config 100 bytes, layer 2000 bytes) and an image
 * manifest over them, whose image size is their sum.
 */
export async function pushImage(store: MetaStore, name: string | RepoKey, label: string, extra: Partial<PutManifestInput> = {}) {
  const repository = keyOf(name);
  await store.createRepository(repository, signal);
  const config = digestOf(`config:${label}`);
  const layer = digestOf(`layer:${label}`);
  await store.linkBlob(repository, config, 100, signal);
  await store.linkBlob(repository, layer, 2000, signal);
  const input = manifest(repository, label, { blobs: [config, layer], imageSize: 2100, ...extra });
  const result = await store.putManifest(input, signal);
  return { input, config, layer, result, digest: input.digest };
}

