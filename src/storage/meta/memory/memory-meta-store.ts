import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import type {
  ManifestRecord, MetaStore, PageRequest, PutManifestInput, Referrer, Repository, UploadSession,
} from '../../../core/ports/meta-store.js';

interface StoredManifest {
  record: ManifestRecord;
  blobs: ReadonlySet<Digest>;
  children: ReadonlySet<Digest>;
}

interface RepoState {
  createdAt: number;
  blobs: Map<Digest, number>;
  manifests: Map<Digest, StoredManifest>;
  tags: Map<string, Digest>;
}

interface StoredUpload {
  repository: string;
  size: number;
  startedAt: number;
  updatedAt: number;
}

/**
 * {@link MetaStore} in process memory, for tests and throwaway runs. Every method does its work
 * synchronously (so it is atomic) and copies values in and out, so callers never share state.
 */
export class MemoryMetaStore implements MetaStore {
  readonly #repos = new Map<string, RepoState>();
  /** Upload ids are unique across repositories, as in the SQL stores. */
  readonly #uploads = new Map<string, StoredUpload>();

  async createRepository(name: string, signal: AbortSignal): Promise<{ repository: Repository; created: boolean }> {
    signal.throwIfAborted();
    let repo = this.#repos.get(name);
    const created = repo === undefined;
    if (!repo) {
      repo = { createdAt: Date.now(), blobs: new Map(), manifests: new Map(), tags: new Map() };
      this.#repos.set(name, repo);
    }
    return { repository: { name, createdAt: new Date(repo.createdAt) }, created };
  }

  async getRepository(name: string, signal: AbortSignal): Promise<Repository | undefined> {
    signal.throwIfAborted();
    const repo = this.#repos.get(name);
    return repo && { name, createdAt: new Date(repo.createdAt) };
  }

  async listRepositories(page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return paginate(this.#repos.keys(), page);
  }

  async deleteRepository(name: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    if (!this.#repos.delete(name)) return false;
    for (const [id, u] of this.#uploads) if (u.repository === name) this.#uploads.delete(id);
    return true;
  }

  async linkBlob(repository: string, digest: Digest, size: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const repo = this.#require(repository);
    if (!repo.blobs.has(digest)) repo.blobs.set(digest, size);
  }

  async getBlobLink(repository: string, digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined> {
    signal.throwIfAborted();
    const size = this.#repos.get(repository)?.blobs.get(digest);
    return size === undefined ? undefined : { size };
  }

  async unlinkBlob(repository: string, digest: Digest, signal: AbortSignal): Promise<boolean> {
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

  async createUpload(session: { id: string; repository: string }, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    this.#require(session.repository);
    if (this.#uploads.has(session.id)) throw fail('UploadInvalid', 'upload session id already in use', { id: session.id });
    const now = Date.now();
    const stored = { repository: session.repository, size: 0, startedAt: now, updatedAt: now };
    this.#uploads.set(session.id, stored);
    return toUpload(session.id, stored);
  }

  async getUpload(repository: string, id: string, signal: AbortSignal): Promise<UploadSession | undefined> {
    signal.throwIfAborted();
    const u = this.#upload(repository, id);
    return u && toUpload(id, u);
  }

  async advanceUpload(repository: string, id: string, expected: number, size: number, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    const u = this.#upload(repository, id);
    if (!u) throw fail('UploadNotFound', 'upload session unknown', { id });
    if (u.size !== expected) throw fail('UploadInvalid', 'upload moved on concurrently', { id, expected, actual: u.size });
    u.size = size;
    u.updatedAt = Date.now();
    return toUpload(id, u);
  }

  async deleteUpload(repository: string, id: string, signal: AbortSignal): Promise<boolean> {
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
      repo.manifests.set(input.digest, { record: copyManifest(toRecord(input)), blobs, children });
    }
    if (tag !== undefined) repo.tags.set(tag, input.digest);
    return previous !== undefined ? { created, previous } : { created };
  }

  async getManifest(repository: string, digest: Digest, signal: AbortSignal): Promise<ManifestRecord | undefined> {
    signal.throwIfAborted();
    const m = this.#repos.get(repository)?.manifests.get(digest);
    return m && copyManifest(m.record);
  }

  async resolveTag(repository: string, tag: string, signal: AbortSignal): Promise<Digest | undefined> {
    signal.throwIfAborted();
    return this.#repos.get(repository)?.tags.get(tag);
  }

  async deleteManifest(repository: string, digest: Digest, signal: AbortSignal): Promise<{ tags: string[] } | undefined> {
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

  async deleteTag(repository: string, tag: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.#repos.get(repository)?.tags.delete(tag) ?? false;
  }

  async listTags(repository: string, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return paginate(this.#repos.get(repository)?.tags.keys() ?? [], page);
  }

  async listReferrers(repository: string, subject: Digest, artifactType: string | undefined, signal: AbortSignal): Promise<Referrer[]> {
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

  async *listBlobReferences(signal: AbortSignal): AsyncIterable<{ repository: string; manifest: Digest; blob: Digest }> {
    signal.throwIfAborted();
    const refs: { repository: string; manifest: Digest; blob: Digest }[] = [];
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

  #require(name: string): RepoState {
    const repo = this.#repos.get(name);
    if (!repo) throw fail('RepositoryNotFound', 'repository does not exist', { repository: name });
    return repo;
  }

  #upload(repository: string, id: string): StoredUpload | undefined {
    const u = this.#uploads.get(id);
    return u?.repository === repository ? u : undefined;
  }
}

function toRecord(input: PutManifestInput): ManifestRecord {
  const m: ManifestRecord = {
    repository: input.repository,
    digest: input.digest,
    mediaType: input.mediaType,
    size: input.body.byteLength,
    body: input.body,
    pushedAt: new Date(),
  };
  if (input.artifactType !== undefined) m.artifactType = input.artifactType;
  if (input.subject !== undefined) m.subject = input.subject;
  if (input.annotations !== undefined) m.annotations = input.annotations;
  return m;
}

function copyManifest(m: ManifestRecord): ManifestRecord {
  const copy: ManifestRecord = { ...m, body: m.body.slice(), pushedAt: new Date(m.pushedAt.getTime()) };
  if (m.annotations !== undefined) copy.annotations = { ...m.annotations };
  return copy;
}

function toUpload(id: string, u: StoredUpload): UploadSession {
  return { id, repository: u.repository, size: u.size, startedAt: new Date(u.startedAt), updatedAt: new Date(u.updatedAt) };
}

function paginate(names: Iterable<string>, page: PageRequest): string[] {
  const limit = Math.max(0, Math.floor(page.limit));
  const last = page.last;
  return [...names]
    .filter((n) => last === undefined || compareBytes(n, last) > 0)
    .sort(compareBytes)
    .slice(0, limit);
}

/**
 * Orders strings by their UTF-8 bytes, as the SQL stores do. UTF-8 byte order is code point order;
 * UTF-16 code units disagree with it only where a surrogate (a code point above U+FFFF) meets a
 * unit in U+E000..U+FFFF, so that one case is corrected.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    return xs !== ys ? (xs ? 1 : -1) : x - y;
  }
  return a.length - b.length;
}
