import { createHash } from 'node:crypto';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../core/digest.js';
import { isBerthError } from '../core/errors.js';
import { parseManifest } from '../core/manifest.js';
import { blobsFor } from '../core/ports/blob-encryption.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { KeyStore } from '../core/ports/key-store.js';
import type { LifecycleStore } from '../core/ports/lifecycle-store.js';
import type { PolicyOwner } from '../core/identity.js';
import type { IdentityStore } from '../core/ports/identity-store.js';
import type { ManifestRecord, MetaStore, Repository } from '../core/ports/meta-store.js';
import type { RepoRef } from '../core/lifecycle.js';
import { repoKey, type RepoKey } from '../core/repo-key.js';

/** One side of a migration: the stores of a configuration, opened through the ports. */
export interface MigrationStores {
  meta: MetaStore;
  blobs: BlobStore;
  identity: IdentityStore;
  keys: KeyStore;
  /** Lifecycle policies and archive states (not copied when either side lacks it). */
  lifecycle?: LifecycleStore;
}

/** Counts of one run: what was copied now, what the target already had (skipped after checking). */
export interface MigrationReport {
  repositories: { copied: number; skipped: number };
  manifests: { copied: number; skipped: number };
  blobs: { copied: number; skipped: number; bytes: number };
  tags: number;
  users: number;
  accessKeys: number;
  kmsKeys: number;
  kmsAliases: number;
  lifecyclePolicies: number;
  archiveStates: number;
}

/** Progress callbacks (the CLI draws bars with them). */
export interface MigrationProgress {
  phase(name: string, total: number): void;
  tick(detail?: string): void;
}

const PAGE = 100;

/**
 * Copies the registry in `from` into `to` through the ports, account by account: identity (users,
 * access keys with their sealed secrets — both sides must use the same master key — inline and
 * attached policies), registry policy, repositories with settings and policy, then every manifest
 * with its blobs (streamed, verified by digest on the way, committed on the target only when
 * they match) and tags. Children of an index are copied before it.
 *
 * Resumable and idempotent: anything the target already holds is checked and skipped (a blob of
 * the same digest and size, a manifest of the same digest, a repository, user or key of the same
 * name), so a run after an interruption copies only the rest. It only adds: nothing on the target
 * is deleted or overwritten.
 */
export async function migrateRegistry(from: MigrationStores, to: MigrationStores, accountIds: readonly string[], progress: MigrationProgress, signal: AbortSignal): Promise<MigrationReport> {
  const report: MigrationReport = {
    repositories: { copied: 0, skipped: 0 }, manifests: { copied: 0, skipped: 0 }, blobs: { copied: 0, skipped: 0, bytes: 0 }, tags: 0, users: 0, accessKeys: 0, kmsKeys: 0, kmsAliases: 0, lifecyclePolicies: 0, archiveStates: 0,
  };
  for (const accountId of accountIds) {
    if (!(await from.identity.getAccount(accountId, signal))) throw new Error(`account ${accountId} does not exist in the source`);
    await copyIdentity(from.identity, to.identity, accountId, report, signal);
    // Before the repositories: a KMS-encrypted repository's blobs are wrapped under its key on the target.
    await copyKmsKeys(from.keys, to.keys, accountId, report, signal);
    const registryPolicy = await from.meta.getRegistryPolicy(accountId, signal);
    if (registryPolicy && !(await to.meta.getRegistryPolicy(accountId, signal))) await to.meta.setRegistryPolicy(accountId, registryPolicy, signal);
    const repos = await allRepositories(from.meta, accountId, signal);
    progress.phase(`account ${accountId}: repositories`, repos.length);
    for (const repo of repos) {
      const key = repoKey(accountId, repo.name);
      const { created } = await to.meta.createRepository(key, signal, { settings: repo.settings });
      report.repositories[created ? 'copied' : 'skipped']++;
      const policy = await from.meta.getRepositoryPolicy(key, signal);
      if (policy && !(await to.meta.getRepositoryPolicy(key, signal))) await to.meta.setRepositoryPolicy(key, policy, signal);
      progress.tick(repo.name);
    }
    for (const repo of repos) {
      await copyImages(from, to, repo, report, progress, signal);
      if (from.lifecycle && to.lifecycle) await copyLifecycle(from.lifecycle, to.lifecycle, { accountId, name: repo.name }, report, signal);
    }
  }
  return report;
}

async function allRepositories(meta: MetaStore, accountId: string, signal: AbortSignal) {
  const out = [];
  let last: string | undefined;
  for (;;) {
    const page = await meta.listRepositoryDetails(accountId, { limit: PAGE, ...(last ? { last } : {}) }, signal);
    out.push(...page);
    if (page.length < PAGE) return out;
    last = page[page.length - 1]!.name;
  }
}

async function copyImages(from: MigrationStores, to: MigrationStores, repository: Repository, report: MigrationReport, progress: MigrationProgress, signal: AbortSignal): Promise<void> {
  const repo = repoKey(repository.accountId, repository.name);
  // The target's blobs through the repository's own key (a KMS repository's data keys are wrapped
  // under its key there, as a push would); the source is read with the service's rights.
  const targetBlobs = blobsFor(to.blobs, repository);
  const images: { digest: Digest; tags: string[] }[] = [];
  let after: string | undefined;
  do {
    const page = await from.meta.describeImages(repo, { filter: 'ANY', limit: PAGE, ...(after ? { after } : {}) }, signal);
    images.push(...page.images.map((i) => ({ digest: i.digest, tags: i.tags })));
    after = page.next;
  } while (after);
  progress.phase(`${repo.slice(13)}: images`, images.length);
  const done = new Set<Digest>();
  const copyOne = async (digest: Digest, tags: readonly string[]): Promise<void> => {
    if (done.has(digest)) return;
    const record = await from.meta.getManifest(repo, digest, signal);
    if (!record) return; // deleted on the source meanwhile
    const parsed = parseManifest(record.body, record.mediaType, digest.startsWith('sha512:') ? 'sha512' : 'sha256');
    // An index's children first: the target refuses a manifest whose references are missing.
    for (const child of parsed.manifests) await copyOne(child, []);
    const existing = await to.meta.getManifest(repo, digest, signal);
    if (existing) {
      report.manifests.skipped++;
    } else {
      for (const blob of parsed.blobs) await copyBlob(from, { ...to, blobs: targetBlobs }, repo, blob, report, signal);
      await putRecord(to.meta, record, parsed, undefined, signal);
      report.manifests.copied++;
    }
    for (const tag of tags) {
      if ((await to.meta.resolveTag(repo, tag, signal)) === digest) continue;
      await putRecord(to.meta, record, parsed, tag, signal);
      report.tags++;
    }
    done.add(digest);
  };
  for (const image of images) {
    await copyOne(image.digest, image.tags);
    progress.tick(image.tags[0] ?? image.digest.slice(0, 19));
  }
}

function putRecord(meta: MetaStore, record: ManifestRecord, parsed: ReturnType<typeof parseManifest>, tag: string | undefined, signal: AbortSignal) {
  return meta.putManifest({
    repository: record.repository, digest: record.digest, mediaType: record.mediaType, body: record.body, imageSize: parsed.imageSize,
    blobs: parsed.blobs, manifests: parsed.manifests,
    ...(record.artifactType ? { artifactType: record.artifactType } : {}),
    ...(record.subject ? { subject: record.subject } : {}),
    ...(record.annotations ? { annotations: record.annotations } : {}),
    ...(tag ? { tag } : {}),
  }, signal);
}

/** Copies one blob (unless the target has it at the right size) and links it into `repo`. */
async function copyBlob(from: MigrationStores, to: MigrationStores, repo: RepoKey, digest: Digest, report: MigrationReport, signal: AbortSignal): Promise<void> {
  const source = await from.blobs.stat(digest, signal);
  if (!source) throw new Error(`blob ${digest} of ${repo.slice(13)} is missing in the source (run berth fsck there)`);
  // Through a KMS repository's view, stat of a blob the target already stores for another key
  // opens its data key and wraps it under this repository's key too (EncryptedBlobStore).
  const there = await to.blobs.stat(digest, signal);
  if (there?.size === source.size) {
    report.blobs.skipped++;
  } else {
    const uploadId = `migrate-${createHash('sha256').update(digest).digest('hex').slice(0, 32)}`;
    await to.blobs.deleteUpload(uploadId, signal).catch(() => {});
    const algorithm = digest.startsWith('sha512:') ? 'sha512' : 'sha256';
    const hash = createHash(algorithm);
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const body = new PassThrough();
    const read = await from.blobs.read(digest, undefined, signal);
    const [size] = await Promise.all([to.blobs.appendUpload(uploadId, 0, body, signal), pipeline(read, hashing, body, { signal })]);
    const actual = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== digest || size !== source.size) {
      await to.blobs.deleteUpload(uploadId, signal).catch(() => {});
      throw new Error(`blob ${digest} read back as ${actual} (${size} bytes, ${source.size} expected): the source is damaged (run berth fsck there)`);
    }
    await to.blobs.commitUpload(uploadId, digest, signal);
    report.blobs.copied++;
    report.blobs.bytes += size;
  }
  await to.meta.linkBlob(repo, digest, source.size, signal);
}

/** A repository's lifecycle policy, and its images' archive states (after the images are there). */
async function copyLifecycle(from: LifecycleStore, to: LifecycleStore, repo: RepoRef, report: MigrationReport, signal: AbortSignal): Promise<void> {
  const policy = await from.getPolicy(repo, signal);
  if (policy && !(await to.getPolicy(repo, signal))) {
    await to.putPolicy(repo, policy.text, policy.updatedAt, signal);
    report.lifecyclePolicies++;
  }
  const there = await to.archiveStates(repo, signal);
  for (const [digest, state] of await from.archiveStates(repo, signal)) {
    if (there.has(digest)) continue;
    await to.setArchiveState(repo, digest, state, signal);
    report.archiveStates++;
  }
}

/**
 * The account's KMS keys (every version's material sealed as stored: same master key), key
 * records as they are (state, policy, rotation, pending deletion), and aliases.
 */
async function copyKmsKeys(from: KeyStore, to: KeyStore, accountId: string, report: MigrationReport, signal: AbortSignal): Promise<void> {
  const keys = await listAll((page) => from.listKeys(accountId, { limit: page.maxItems, ...(page.marker ? { marker: page.marker } : {}) }, signal), (k) => k.keyId);
  for (const key of keys) {
    const existing = await to.getKey(key.keyId, signal);
    const versions = await from.listVersions(key.keyId, signal);
    if (!versions[0]) throw new Error(`KMS key ${key.keyId} has no key material in the source`);
    if (!existing) await to.createKey(key, versions[0], signal);
    // Versions one by one, each checked: a run interrupted after createKey resumes here.
    let added = 0;
    for (const v of versions) {
      if (await to.getVersion(key.keyId, v.version, signal)) continue;
      await to.addVersion(v, signal);
      added++;
    }
    // The record as the source has it (state, current version, policy, rotation), only for a
    // key this run created or completed: a key already whole on the target is left alone.
    if (!existing || added > 0) await to.updateKey(key.keyId, () => key, signal);
    if (!existing) report.kmsKeys++;
  }
  for (const alias of await from.listAliases(accountId, undefined, signal)) {
    if (await to.getAlias(accountId, alias.aliasName, signal)) continue;
    await to.createAlias(alias, signal);
    report.kmsAliases++;
  }
}

/** Users, access keys (sealed secrets as stored), inline and attached policies of one account. */
async function copyIdentity(from: IdentityStore, to: IdentityStore, accountId: string, report: MigrationReport, signal: AbortSignal): Promise<void> {
  await to.ensureAccount(accountId, signal);
  const users = await listAll((page) => from.listUsers(accountId, page, signal), (u) => u.userName);
  for (const user of users) {
    if (!(await to.getUser(accountId, user.userName, signal))) {
      await to.createUser(user, signal);
      report.users++;
    }
    await copyPolicies(from, to, { kind: 'user', accountId, name: user.userName }, signal);
  }
  const groups = await listAll((page) => from.listGroups(accountId, page, signal), (g) => g.groupName);
  for (const group of groups) {
    if (!(await to.getGroup(accountId, group.groupName, signal))) await to.createGroup(group, signal);
    const members = new Set((await to.listGroupMembers(accountId, group.groupName, signal)).map((u) => u.userName));
    for (const user of await from.listGroupMembers(accountId, group.groupName, signal)) {
      if (!members.has(user.userName)) await to.addUserToGroup(accountId, group.groupName, user.userName, signal);
    }
    await copyPolicies(from, to, { kind: 'group', accountId, name: group.groupName }, signal);
  }
  for (const userName of [null, ...users.map((u) => u.userName)]) {
    for (const key of await from.listAccessKeys(accountId, userName, signal)) {
      if (await to.getAccessKey(key.accessKeyId, signal)) continue;
      await to.createAccessKey(key, signal);
      report.accessKeys++;
    }
  }
}

/** Inline policies and attachments of a user or group (a customer managed policy is created first, at its default version). */
async function copyPolicies(from: IdentityStore, to: IdentityStore, owner: PolicyOwner, signal: AbortSignal): Promise<void> {
  for (const name of await from.listInlinePolicies(owner, signal)) {
    const doc = await from.getInlinePolicy(owner, name, signal);
    if (doc && !(await to.getInlinePolicy(owner, name, signal))) await to.putInlinePolicy(owner, name, doc, signal);
  }
  const attached = new Set(await to.listAttachedPolicies(owner, signal));
  for (const arn of await from.listAttachedPolicies(owner, signal)) {
    if (attached.has(arn)) continue;
    if (!arn.startsWith('arn:aws:iam::aws:') && !(await to.getPolicy(arn, signal))) {
      const policy = await from.getPolicy(arn, signal);
      const doc = await from.defaultPolicyDocument(arn, signal);
      if (policy && doc) await to.createPolicy(policy, doc, signal);
    }
    await tolerateExisting(to.attachPolicy(owner, arn, signal));
  }
}

async function tolerateExisting(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isBerthError(err)) throw err;
  }
}

/** Every item of an IAM-style marker-paged list (`marker` = the last name of the previous page). */
async function listAll<T>(list: (page: { maxItems: number; marker?: string }) => Promise<T[]>, nameOf: (item: T) => string): Promise<T[]> {
  const all: T[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await list({ maxItems: PAGE, ...(marker ? { marker } : {}) });
    all.push(...page);
    if (page.length < PAGE) return all;
    marker = nameOf(page[page.length - 1]!);
  }
}
