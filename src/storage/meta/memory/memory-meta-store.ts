import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import {
  DEFAULT_REPOSITORY_SETTINGS,
  type ImageDetail, type ImageId, type ManifestRecord, type MetaStore, type PageRequest, type PutManifestInput,
  type Referrer, type Repository, type RepositoryInit, type RepositorySettings, type UploadSession,
} from '../../../core/ports/meta-store.js';
import { repoAccount, repoKey, repoName, type RepoKey } from '../../../core/repo-key.js';
import { describeImages, listImageIds, recordPull, type TagFilter } from './images.js';
import { copyManifest, toRecord, toRepository, toUpload, type StoredUpload } from './records.js';
import { compareBytes, mergeSettings, paginate, type RepoState } from './state.js';

export { compareBytes } from './state.js';

/**
 * {@link MetaStore} in process memory, for tests and throwaway runs. Every method does its work
 * synchronously (so it is atomic) and copies values in and out, so callers never share state.
 */
export class MemoryMetaStore implements MetaStore {
  readonly #repos = new Map<RepoKey, RepoState>();
  /** Upload ids are unique across repositories, as in the SQL stores. */
  readonly #uploads = new Map<string, StoredUpload>();
  readonly #registryPolicies = new Map<string, string>();
  /** Keyed by account id, then setting name. */
  readonly #accountSettings = new Map<string, Map<string, string>>();

  async createRepository(name: RepoKey, signal: AbortSignal, init?: RepositoryInit): Promise<{ repository: Repository; created: boolean }> {
    signal.throwIfAborted();
    let repo = this.#repos.get(name);
    const created = repo === undefined;
    if (!repo) {
      repo = {
        createdAt: Date.now(),
        accountId: repoAccount(name),
        settings: mergeSettings(DEFAULT_REPOSITORY_SETTINGS, init?.settings),
        blobs: new Map(), manifests: new Map(), tags: new Map(),
      };
      this.#repos.set(name, repo);
    }
    return { repository: toRepository(name, repo), created };
  }

  async updateRepository(name: RepoKey, patch: Partial<RepositorySettings>, signal: AbortSignal): Promise<Repository> {
    signal.throwIfAborted();
    const repo = this.#require(name);
    repo.settings = mergeSettings(repo.settings, patch);
    return toRepository(name, repo);
  }

  async listRepositoryDetails(accountId: string, page: PageRequest, signal: AbortSignal): Promise<Repository[]> {
    signal.throwIfAborted();
    return this.#names(accountId, page).map((name) => repoKey(accountId, name)).map((key) => toRepository(key, this.#repos.get(key)!));
  }

  async getRepositoryPolicy(name: RepoKey, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return this.#require(name).policy;
  }

  async setRepositoryPolicy(name: RepoKey, policy: string | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#require(name).policy = policy;
  }

  async getRepository(name: RepoKey, signal: AbortSignal): Promise<Repository | undefined> {
    signal.throwIfAborted();
    const repo = this.#repos.get(name);
    return repo && toRepository(name, repo);
  }

  async listRepositories(accountId: string, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return this.#names(accountId, page);
  }

  /** A page of the names of the account's repositories. */
  #names(accountId: string, page: PageRequest): string[] {
    return paginate([...this.#repos.keys()].filter((k) => repoAccount(k) === accountId).map(repoName), page);
  }

  async deleteRepository(name: RepoKey, signal: AbortSignal, opts?: { onlyIfEmpty?: boolean }): Promise<boolean> {
    signal.throwIfAborted();
    if (opts?.onlyIfEmpty && (this.#repos.get(name)?.manifests.size ?? 0) > 0) {
      throw fail('RepositoryNotEmpty', 'repository still contains images', { repository: repoName(name) });
    }
    if (!this.#repos.delete(name)) return false;
    for (const [id, u] of this.#uploads) if (u.repository === name) this.#uploads.delete(id);
    return true;
  }

  async linkBlob(repository: RepoKey, digest: Digest, size: number, signal: AbortSignal, opts: { endUpload?: string } = {}): Promise<void> {
    signal.throwIfAborted();
    const repo = this.#require(repository);
    if (!repo.blobs.has(digest)) repo.blobs.set(digest, size);
    if (opts.endUpload !== undefined && this.#upload(repository, opts.endUpload)) this.#uploads.delete(opts.endUpload);
  }

  async getBlobLink(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined> {
    signal.throwIfAborted();
    const size = this.#repos.get(repository)?.blobs.get(digest);
    return size === undefined ? undefined : { size };
  }

  async unlinkBlob(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    const repo = this.#repos.get(repository);
    if (!repo) return false;
    for (const m of repo.manifests.values()) {
      if (m.blobs.has(digest)) {
        throw fail('BlobReferenced', 'blob is referenced by a manifest', { digest, manifest: m.record.digest });
      }
    }
    return repo.blobs.delete(digest);
  }

  async createUpload(session: { id: string; repository: RepoKey }, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    this.#require(session.repository);
    if (this.#uploads.has(session.id)) throw fail('UploadInvalid', 'upload session id already in use', { id: session.id });
    const now = Date.now();
    const stored = { repository: session.repository, size: 0, startedAt: now, updatedAt: now };
    this.#uploads.set(session.id, stored);
    return toUpload(session.id, stored);
  }

  async getUpload(repository: RepoKey, id: string, signal: AbortSignal): Promise<UploadSession | undefined> {
    signal.throwIfAborted();
    const u = this.#upload(repository, id);
    return u && toUpload(id, u);
  }

  async advanceUpload(repository: RepoKey, id: string, expected: number, size: number, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    const u = this.#upload(repository, id);
    if (!u) throw fail('UploadNotFound', 'upload session unknown', { id });
    if (u.size !== expected) throw fail('UploadInvalid', 'upload moved on concurrently', { id, expected, actual: u.size });
    u.size = size;
    u.updatedAt = Date.now();
    return toUpload(id, u);
  }

  async deleteUpload(repository: RepoKey, id: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.#upload(repository, id) !== undefined && this.#uploads.delete(id);
  }

  async listStaleUploads(before: Date, signal: AbortSignal): Promise<UploadSession[]> {
    signal.throwIfAborted();
    const cutoff = before.getTime();
    return [...this.#uploads]
      .filter(([, u]) => u.updatedAt < cutoff)
      .sort(([a, x], [b, y]) => x.updatedAt - y.updatedAt || compareBytes(a, b))
      .map(([id, u]) => toUpload(id, u));
  }

  async putManifest(input: PutManifestInput, signal: AbortSignal): Promise<{ created: boolean; previous?: Digest }> {
    signal.throwIfAborted();
    const repo = this.#require(input.repository);
    const blobs = new Set(input.blobs);
    const children = new Set(input.manifests);
    const missing = [
      ...[...blobs].filter((d) => !repo.blobs.has(d)),
      ...[...children].filter((d) => !repo.manifests.has(d)),
    ];
    if (missing.length > 0) {
      throw fail('ManifestBlobUnknown', 'manifest references blobs or manifests unknown to the repository', { missing });
    }
    const tag = input.tag;
    const current = tag === undefined ? undefined : repo.tags.get(tag);
    const previous = current !== input.digest ? current : undefined;
    // Everything that may throw runs before the first mutation, which keeps the call atomic.
    if (tag !== undefined && previous !== undefined) input.beforeTagMove?.(tag, previous, input.digest);

    const created = !repo.manifests.has(input.digest);
    if (created) {
      const record = copyManifest(toRecord(input));
      // Push order is the Map's insertion order; the time is kept strictly increasing to match (as in SQL).
      const last = [...repo.manifests.values()].at(-1)?.record.pushedAt.getTime();
      if (last !== undefined && record.pushedAt.getTime() <= last) record.pushedAt = new Date(last + 1);
      repo.manifests.set(input.digest, { record, blobs, children, imageSize: input.imageSize });
    }
    // Tag order is the Map's insertion order: a tag moved to another image is applied anew, so goes last.
    if (tag !== undefined && current !== input.digest) {
      repo.tags.delete(tag);
      repo.tags.set(tag, input.digest);
    }
    return previous !== undefined ? { created, previous } : { created };
  }

  async getManifest(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<ManifestRecord | undefined> {
    signal.throwIfAborted();
    const m = this.#repos.get(repository)?.manifests.get(digest);
    return m && copyManifest(m.record);
  }

  async resolveTag(repository: RepoKey, tag: string, signal: AbortSignal): Promise<Digest | undefined> {
    signal.throwIfAborted();
    return this.#repos.get(repository)?.tags.get(tag);
  }

  async deleteManifest(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<{ tags: string[] } | undefined> {
    signal.throwIfAborted();
    const repo = this.#repos.get(repository);
    if (!repo?.manifests.has(digest)) return undefined;
    for (const m of repo.manifests.values()) {
      if (m.children.has(digest)) {
        throw fail('ManifestReferenced', 'manifest is listed by an index', { digest, index: m.record.digest });
      }
    }
    const tags = [...repo.tags].filter(([, d]) => d === digest).map(([t]) => t).sort(compareBytes);
    for (const t of tags) repo.tags.delete(t);
    repo.manifests.delete(digest);
    return { tags };
  }

  async deleteTag(repository: RepoKey, tag: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.#repos.get(repository)?.tags.delete(tag) ?? false;
  }

  async listTags(repository: RepoKey, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return paginate(this.#repos.get(repository)?.tags.keys() ?? [], page);
  }

  async listReferrers(repository: RepoKey, subject: Digest, artifactType: string | undefined, signal: AbortSignal): Promise<Referrer[]> {
    signal.throwIfAborted();
    const out: Referrer[] = [];
    for (const { record: m } of this.#repos.get(repository)?.manifests.values() ?? []) {
      if (m.subject !== subject || (artifactType !== undefined && m.artifactType !== artifactType)) continue;
      const r: Referrer = { mediaType: m.mediaType, digest: m.digest, size: m.size };
      if (m.artifactType !== undefined) r.artifactType = m.artifactType;
      if (m.annotations !== undefined) r.annotations = { ...m.annotations };
      out.push(r);
    }
    return out.sort((a, b) => compareBytes(a.digest, b.digest));
  }

  async listImageIds(repository: RepoKey, query: { filter?: TagFilter; after?: string; limit: number }, signal: AbortSignal): Promise<{ ids: ImageId[]; next?: string }> {
    signal.throwIfAborted();
    return listImageIds(this.#require(repository), query);
  }

  async describeImages(repository: RepoKey, query: { digests?: Digest[]; filter?: TagFilter; after?: string; limit: number }, signal: AbortSignal): Promise<{ images: ImageDetail[]; next?: string }> {
    signal.throwIfAborted();
    return describeImages(this.#require(repository), query);
  }

  async recordPull(repository: RepoKey, digest: Digest, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    recordPull(this.#repos.get(repository)?.manifests.get(digest), at);
  }

  async getRegistryPolicy(accountId: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return this.#registryPolicies.get(accountId);
  }

  async setRegistryPolicy(accountId: string, policy: string | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (policy === undefined) this.#registryPolicies.delete(accountId);
    else this.#registryPolicies.set(accountId, policy);
  }

  async getAccountSetting(accountId: string, name: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return this.#accountSettings.get(accountId)?.get(name);
  }

  async putAccountSetting(accountId: string, name: string, value: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    let settings = this.#accountSettings.get(accountId);
    if (!settings) this.#accountSettings.set(accountId, settings = new Map());
    settings.set(name, value);
  }

  async *listBlobReferences(signal: AbortSignal): AsyncIterable<{ repository: RepoKey; manifest: Digest; blob: Digest }> {
    signal.throwIfAborted();
    const refs: { repository: RepoKey; manifest: Digest; blob: Digest }[] = [];
    for (const [repository, repo] of this.#repos) {
      for (const [manifest, m] of repo.manifests) for (const blob of m.blobs) refs.push({ repository, manifest, blob });
    }
    yield* refs;
  }

  async *listLinkedBlobs(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number }> {
    signal.throwIfAborted();
    const sizes = new Map<Digest, number>();
    for (const repo of this.#repos.values()) {
      for (const [digest, size] of repo.blobs) sizes.set(digest, Math.max(size, sizes.get(digest) ?? 0));
    }
    const digests = [...sizes.keys()].sort(compareBytes);
    yield* digests.map((digest) => ({ digest, size: sizes.get(digest)! }));
  }

  async close(): Promise<void> {}

  #require(name: RepoKey): RepoState {
    const repo = this.#repos.get(name);
    if (!repo) throw fail('RepositoryNotFound', 'repository does not exist', { repository: repoName(name) });
    return repo;
  }

  #upload(repository: RepoKey, id: string): StoredUpload | undefined {
    const u = this.#uploads.get(id);
    return u?.repository === repository ? u : undefined;
  }
}
