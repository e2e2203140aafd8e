import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import { keyOf, type ImageArchiveState, type LifecycleAction, type PreviewStatus, type RepoRef } from '../../../core/lifecycle.js';
import type { LifecycleStore, StoredPolicy, StoredPreview } from '../../../core/ports/lifecycle-store.js';
import type { MetaStore } from '../../../core/ports/meta-store.js';

const key = (r: RepoRef): string => `${r.accountId}\u0000${r.name}`;

/**
 * {@link LifecycleStore} in process memory, beside the in-memory metadata store (whose repositories
 * and manifests it checks). It tells a repository (or manifest) deleted and created again by its
 * creation (push) time, in milliseconds: rows of the old one are ignored. For tests and throwaway
 * servers; the SQL stores cascade instead.
 */
export class MemoryLifecycleStore implements LifecycleStore {
  readonly #policies = new Map<string, StoredPolicy & { repo: RepoRef; createdAt: number }>();
  readonly #previews = new Map<string, StoredPreview>();
  readonly #archive = new Map<string, Map<Digest, ImageArchiveState & { pushedAt: number }>>();
  readonly #exclusions = new Map<string, Map<string, Date>>();

  constructor(private readonly meta: MetaStore) {}

  async #created(repo: RepoRef, signal: AbortSignal): Promise<number | undefined> {
    const r = await this.meta.getRepository(keyOf(repo), signal);
    return r && r.accountId === repo.accountId ? r.createdAt.getTime() : undefined;
  }

  async #require(repo: RepoRef, signal: AbortSignal): Promise<number> {
    const created = await this.#created(repo, signal);
    if (created === undefined) throw fail('RepositoryNotFound', `The repository with name '${repo.name}' does not exist in the registry with id '${repo.accountId}'`);
    return created;
  }

  async getPolicy(repo: RepoRef, signal: AbortSignal): Promise<StoredPolicy | undefined> {
    const p = this.#policies.get(key(repo));
    if (!p || p.createdAt !== (await this.#created(repo, signal))) return undefined;
    const { repo: _r, createdAt: _c, ...policy } = p;
    return policy;
  }

  async putPolicy(repo: RepoRef, text: string, at: Date, signal: AbortSignal): Promise<void> {
    const createdAt = await this.#require(repo, signal);
    const old = await this.getPolicy(repo, signal);
    this.#policies.set(key(repo), { ...(old ?? {}), text, updatedAt: at, repo, createdAt });
  }

  async deletePolicy(repo: RepoRef, signal: AbortSignal): Promise<StoredPolicy | undefined> {
    const p = await this.getPolicy(repo, signal);
    this.#policies.delete(key(repo));
    return p;
  }

  async recordRun(repo: RepoRef, run: { at: Date; expired: number; transitioned: number }, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const p = this.#policies.get(key(repo));
    if (p) Object.assign(p, { lastEvaluatedAt: run.at, lastExpired: run.expired, lastTransitioned: run.transitioned });
  }

  async listPolicies(signal: AbortSignal): Promise<(StoredPolicy & { repo: RepoRef })[]> {
    const out: (StoredPolicy & { repo: RepoRef })[] = [];
    for (const k of [...this.#policies.keys()].sort()) {
      const p = this.#policies.get(k)!;
      const current = await this.getPolicy(p.repo, signal);
      if (current) out.push({ ...current, repo: p.repo });
    }
    return out;
  }

  async getPreview(repo: RepoRef, signal: AbortSignal): Promise<StoredPreview | undefined> {
    signal.throwIfAborted();
    const p = this.#previews.get(key(repo));
    return p && { ...p, results: [...p.results] };
  }

  async beginPreview(repo: RepoRef, text: string, at: Date, staleBefore: Date, signal: AbortSignal): Promise<boolean> {
    await this.#require(repo, signal);
    const cur = this.#previews.get(key(repo));
    if (cur && cur.status === 'IN_PROGRESS' && cur.startedAt >= staleBefore) return false;
    this.#previews.set(key(repo), { status: 'IN_PROGRESS', text, startedAt: at, results: [] });
    return true;
  }

  async finishPreview(repo: RepoRef, startedAt: Date, status: PreviewStatus, results: LifecycleAction[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const cur = this.#previews.get(key(repo));
    if (cur && cur.startedAt.getTime() === startedAt.getTime()) this.#previews.set(key(repo), { ...cur, status, results: [...results] });
  }

  async archiveStates(repo: RepoRef, signal: AbortSignal): Promise<Map<Digest, ImageArchiveState>> {
    const out = new Map<Digest, ImageArchiveState>();
    for (const [digest, { pushedAt, ...state }] of this.#archive.get(key(repo)) ?? []) {
      // A state outlives neither its manifest nor its repository (a re-push has a new push time).
      if ((await this.meta.getManifest(keyOf(repo), digest, signal))?.pushedAt.getTime() === pushedAt) out.set(digest, state);
    }
    return out;
  }

  async setArchiveState(repo: RepoRef, digest: Digest, state: ImageArchiveState, signal: AbortSignal): Promise<void> {
    await this.#require(repo, signal);
    const m = await this.meta.getManifest(keyOf(repo), digest, signal);
    if (!m) {
      throw fail('ImageNotFound', `The image with imageId {imageDigest:'${digest}'} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`);
    }
    let states = this.#archive.get(key(repo));
    if (!states) this.#archive.set(key(repo), (states = new Map()));
    states.set(digest, { ...state, pushedAt: m.pushedAt.getTime() });
  }

  async addPullTimeExclusion(accountId: string, principalArn: string, at: Date, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    let m = this.#exclusions.get(accountId);
    if (!m) this.#exclusions.set(accountId, (m = new Map()));
    if (m.has(principalArn)) return false;
    m.set(principalArn, at);
    return true;
  }

  async removePullTimeExclusion(accountId: string, principalArn: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.#exclusions.get(accountId)?.delete(principalArn) ?? false;
  }

  async listPullTimeExclusions(accountId: string, page: { after?: string; limit: number }, signal: AbortSignal): Promise<{ arn: string; createdAt: Date }[]> {
    signal.throwIfAborted();
    const after = page.after;
    return [...(this.#exclusions.get(accountId) ?? new Map<string, Date>())]
      .filter(([arn]) => after === undefined || Buffer.compare(Buffer.from(arn), Buffer.from(after)) > 0)
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .slice(0, page.limit)
      .map(([arn, createdAt]) => ({ arn, createdAt }));
  }

  async close(): Promise<void> {}
}
