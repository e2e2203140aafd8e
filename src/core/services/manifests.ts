import { type Digest, isDigest, parseDigest } from '../digest.js';
import { fail, isBerthError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { PullGate } from '../lifecycle.js';
import { parseManifest } from '../manifest.js';
import { validateTag } from '../names.js';
import { assertTagMutable } from '../tag-mutability.js';
import type { ManifestRecord, MetaStore, PageRequest, Referrer } from '../ports/meta-store.js';
import type { RepositoryService } from './repositories.js';
import type { RepoKey } from '../repo-key.js';

/** A reference from a URL: a tag or a digest. */
export type Reference = { kind: 'digest'; digest: Digest } | { kind: 'tag'; tag: string };

export function parseReference(text: string): Reference {
  if (text.includes(':')) return { kind: 'digest', digest: parseDigest(text).digest };
  return { kind: 'tag', tag: validateTag(text) };
}

function tryParseReference(text: string): Reference | undefined {
  try {
    return parseReference(text);
  } catch (err) {
    if (isBerthError(err)) return undefined;
    throw err;
  }
}

export interface PutManifestResult {
  digest: Digest;
  created: boolean;
  subject?: Digest;
}

/**
 * How long a manifest read by digest is served from this process's memory. Content under a digest
 * never changes, so only a deletion on another node can make an entry stale, for at most this long;
 * deletions seen here drop their entries at once.
 */
export const MANIFEST_CACHE_MS = 5_000;
const MANIFEST_CACHE_ENTRIES = 10_000;

/** Manifests, tags and referrers of a repository. */
export class ManifestService {
  private readonly pulls = new Map<string, number>();
  /** Set by the lifecycle feature: archived images are not pullable; some principals' pulls are not recorded. */
  pullGate: PullGate | undefined;
  private readonly records = new Map<string, { record: ManifestRecord; until: number }>();

  constructor(
    private readonly meta: MetaStore,
    private readonly repos: RepositoryService,
    private readonly events: EventBus,
  ) {
    events.subscribe((e) => {
      if (e.type === 'manifest.deleted') this.records.delete(`${e.repository}@${e.digest}`);
      else if (e.type === 'repository.deleted') this.records.clear();
    });
  }

  /** A manifest by digest, from the short-lived cache or the store. */
  private async record(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<ManifestRecord | undefined> {
    const key = `${repository}@${digest}`;
    const now = Date.now();
    const hit = this.records.get(key);
    if (hit && hit.until > now) return hit.record;
    const record = await this.meta.getManifest(repository, digest, signal);
    if (record) {
      if (this.records.size >= MANIFEST_CACHE_ENTRIES) this.records.clear();
      this.records.set(key, { record, until: now + MANIFEST_CACHE_MS });
    }
    return record;
  }

  /**
   * Validates and stores a manifest under a tag or digest reference. Throws `ManifestInvalid`,
   * `PayloadTooLarge`, `DigestMismatch` (digest reference ≠ content), `ManifestBlobUnknown`,
   * `RepositoryNotFound` (unless `createRepository`).
   */
  async put(repository: RepoKey, referenceText: string, body: Uint8Array, contentType: string | undefined, createRepository: boolean, signal: AbortSignal, expectedDigest?: string): Promise<PutManifestResult> {
    // ECR's PutImage may give neither tag nor digest: the manifest is then stored untagged.
    const reference = referenceText ? parseReference(referenceText) : undefined;
    const tag = reference?.kind === 'tag' ? reference.tag : undefined;
    // Every digest the caller named (in the path, or ECR's imageDigest) must be the content's.
    const named = [reference?.kind === 'digest' ? reference.digest : undefined, expectedDigest].filter((d): d is string => !!d);
    const parsed = parseManifest(body, contentType, named[0] ? parseDigest(named[0]).algorithm : 'sha256');
    const wrong = named.find((d) => d !== parsed.digest);
    if (wrong) throw fail('DigestMismatch', 'manifest digest does not match the reference', { digest: wrong, actual: parsed.digest });
    if (parsed.subject && !isDigest(parsed.subject.digest)) throw fail('ManifestInvalid', 'subject digest is invalid');
    const repo = await this.repos.forPush(repository, createRepository, signal);
    const subject = parsed.subject?.digest as Digest | undefined;
    const { created } = await this.meta.putManifest({
      repository, digest: parsed.digest, mediaType: parsed.mediaType, body, imageSize: parsed.imageSize,
      blobs: parsed.blobs, manifests: parsed.manifests,
      ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
      ...(subject ? { subject } : {}),
      ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
      ...(tag ? { tag } : {}),
      // Runs inside the metadata transaction, so a concurrent push cannot slip past it.
      beforeTagMove: (t: string) => assertTagMutable(repository, repo.settings, t),
    }, signal);
    this.events.emit({
      type: 'manifest.pushed', repository, digest: parsed.digest, mediaType: parsed.mediaType,
      ...(tag ? { tag } : {}), at: new Date(),
    });
    return { digest: parsed.digest, created, ...(subject ? { subject } : {}) };
  }

  /** The manifest a tag or digest names. Throws `RepositoryNotFound`, `ManifestNotFound`. */
  async get(repository: RepoKey, referenceText: string, signal: AbortSignal): Promise<ManifestRecord> {
    // A reference that is neither a tag nor a digest names nothing: 404 MANIFEST_UNKNOWN, as
    // Distribution answers (clients probe registries with such names); only a PUT calls it invalid.
    const reference = tryParseReference(referenceText);
    const digest = reference === undefined ? undefined
      : reference.kind === 'digest' ? reference.digest : await this.meta.resolveTag(repository, reference.tag, signal);
    const record = digest ? await this.record(repository, digest, signal) : undefined;
    if (record) return record;
    // Only on a miss: tell an unknown repository from an unknown manifest.
    await this.repos.require(repository, signal);
    throw fail('ManifestNotFound', 'manifest unknown to registry', { reference: referenceText });
  }

  /**
   * Deletes by digest (the manifest and its tags) or by tag (the tag only). Throws
   * `ManifestNotFound`, `ManifestReferenced`, `RepositoryNotFound`.
   */
  async delete(repository: RepoKey, referenceText: string, signal: AbortSignal): Promise<void> {
    const reference = parseReference(referenceText);
    await this.repos.require(repository, signal);
    if (reference.kind === 'tag') {
      if (!(await this.meta.deleteTag(repository, reference.tag, signal))) {
        throw fail('ManifestNotFound', 'manifest unknown to registry', { reference: referenceText });
      }
      this.events.emit({ type: 'tag.deleted', repository, tag: reference.tag, at: new Date() });
      return;
    }
    const removed = await this.meta.deleteManifest(repository, reference.digest, signal);
    if (!removed) throw fail('ManifestNotFound', 'manifest unknown to registry', { reference: referenceText });
    this.events.emit({ type: 'manifest.deleted', repository, digest: reference.digest, tags: removed.tags, at: new Date() });
  }

  /** A page of the repository's tags. Throws `RepositoryNotFound`. */
  async tags(repository: RepoKey, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    await this.repos.require(repository, signal);
    return this.meta.listTags(repository, page, signal);
  }

  /**
   * Records that a client pulled a manifest (ECR's `lastRecordedPullTime`). Best effort and
   * throttled per process to one write a minute per image: it sits on the pull hot path.
   */
  notePull(repository: RepoKey, digest: Digest, principalArn?: string): void {
    const key = `${repository}@${digest}`;
    const now = Date.now();
    const last = this.pulls.get(key);
    if (last !== undefined && now - last < 60_000) return;
    if (this.pulls.size >= 10_000) this.pulls.clear();
    this.pulls.set(key, now);
    const signal = AbortSignal.timeout(10_000);
    const gate = this.pullGate;
    void (async () => {
      // An excluded principal's pull records no time and gives the throttle slot back.
      if (gate && !(await gate.recordsPullsBy(repository, principalArn, signal))) {
        if (this.pulls.get(key) === now) this.pulls.delete(key);
        return;
      }
      await this.meta.recordPull(repository, digest, new Date(now), signal);
    })().catch(() => {});
  }

  /** Throws `ImageArchived` when the image may not be pulled (it is in the archive storage class). */
  async assertPullable(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<void> {
    await this.pullGate?.assertPullable(repository, digest, signal);
  }

  /** Manifests whose subject is `digest`. Throws `RepositoryNotFound`, `InvalidDigest`. */
  async referrers(repository: RepoKey, digestText: string, artifactType: string | undefined, signal: AbortSignal): Promise<Referrer[]> {
    const { digest } = parseDigest(digestText);
    await this.repos.require(repository, signal);
    return this.meta.listReferrers(repository, digest, artifactType, signal);
  }
}
