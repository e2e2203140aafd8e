import type { Kysely } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import type { ImageArchiveState, LifecycleAction, PreviewStatus, RepoRef } from '../../../core/lifecycle.js';
import type { LifecycleStore, StoredPolicy, StoredPreview } from '../../../core/ports/lifecycle-store.js';
import type { LifecycleSchema } from '../migrations/index.js';
import { openSqlite } from './open.js';
import type { Statements } from './statements.js';

/** Opens the lifecycle store on the SQLite metadata file at `path` (its own connection; migrates first). */
export async function openSqliteLifecycleStore(opts: { path: string }): Promise<SqliteLifecycleStore> {
  const { db, sql } = await openSqlite<LifecycleSchema>(opts.path);
  return new SqliteLifecycleStore(db, sql);
}

export type PolicyRow = { text: string; updated_at: number; last_evaluated_at: number | null; last_expired: number | null; last_transitioned: number | null };

export const toPolicy = (r: PolicyRow): StoredPolicy => ({
  text: r.text, updatedAt: new Date(r.updated_at),
  ...(r.last_evaluated_at !== null ? { lastEvaluatedAt: new Date(r.last_evaluated_at) } : {}),
  ...(r.last_expired !== null ? { lastExpired: r.last_expired } : {}),
  ...(r.last_transitioned !== null ? { lastTransitioned: r.last_transitioned } : {}),
});

/** Actions are stored as JSON; dates travel as epoch ms. */
export function encodeResults(results: LifecycleAction[]): string {
  return JSON.stringify(results.map((a) => ({ ...a, pushedAt: a.pushedAt.getTime() })));
}
export function decodeResults(text: string): LifecycleAction[] {
  return (JSON.parse(text) as (Omit<LifecycleAction, 'pushedAt'> & { pushedAt: number })[]).map((a) => ({ ...a, pushedAt: new Date(a.pushedAt) }));
}

/** {@link LifecycleStore} on the SQLite metadata file; every method is one synchronous, atomic step. */
export class SqliteLifecycleStore implements LifecycleStore {
  constructor(private readonly db: Kysely<LifecycleSchema>, private readonly sql: Statements) {}

  #repoId(repo: RepoRef): number | undefined {
    return this.sql.get(this.db.selectFrom('repositories').select('id').where('name', '=', repo.name).where('account_id', '=', repo.accountId))?.id;
  }

  #requireRepo(repo: RepoRef): number {
    const id = this.#repoId(repo);
    if (id === undefined) throw fail('RepositoryNotFound', `The repository with name '${repo.name}' does not exist in the registry with id '${repo.accountId}'`);
    return id;
  }

  async getPolicy(repo: RepoRef, signal: AbortSignal): Promise<StoredPolicy | undefined> {
    signal.throwIfAborted();
    const id = this.#repoId(repo);
    if (id === undefined) return undefined;
    const row = this.sql.get(this.db.selectFrom('lifecycle_policies')
      .select(['text', 'updated_at', 'last_evaluated_at', 'last_expired', 'last_transitioned']).where('repository_id', '=', id));
    return row && toPolicy(row);
  }

  async putPolicy(repo: RepoRef, text: string, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.sql.write(() => {
      const id = this.#requireRepo(repo);
      this.sql.run(this.db.insertInto('lifecycle_policies')
        .values({ repository_id: id, text, updated_at: at.getTime(), last_evaluated_at: null, last_expired: null, last_transitioned: null })
        .onConflict((oc) => oc.column('repository_id').doUpdateSet({ text, updated_at: at.getTime() })));
    });
  }

  async deletePolicy(repo: RepoRef, signal: AbortSignal): Promise<StoredPolicy | undefined> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const id = this.#repoId(repo);
      if (id === undefined) return undefined;
      const row = this.sql.get(this.db.selectFrom('lifecycle_policies')
        .select(['text', 'updated_at', 'last_evaluated_at', 'last_expired', 'last_transitioned']).where('repository_id', '=', id));
      if (!row) return undefined;
      this.sql.run(this.db.deleteFrom('lifecycle_policies').where('repository_id', '=', id));
      return toPolicy(row);
    });
  }

  async recordRun(repo: RepoRef, run: { at: Date; expired: number; transitioned: number }, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const id = this.#repoId(repo);
    if (id === undefined) return;
    this.sql.run(this.db.updateTable('lifecycle_policies')
      .set({ last_evaluated_at: run.at.getTime(), last_expired: run.expired, last_transitioned: run.transitioned })
      .where('repository_id', '=', id));
  }

  async listPolicies(signal: AbortSignal): Promise<(StoredPolicy & { repo: RepoRef })[]> {
    signal.throwIfAborted();
    return this.sql.all(this.db.selectFrom('lifecycle_policies as p').innerJoin('repositories as r', 'r.id', 'p.repository_id')
      .select(['r.name', 'r.account_id', 'p.text', 'p.updated_at', 'p.last_evaluated_at', 'p.last_expired', 'p.last_transitioned'])
      .orderBy('r.account_id').orderBy('r.name'))
      .map((row) => ({ ...toPolicy(row), repo: { accountId: row.account_id, name: row.name } }));
  }

  async getPreview(repo: RepoRef, signal: AbortSignal): Promise<StoredPreview | undefined> {
    signal.throwIfAborted();
    const id = this.#repoId(repo);
    if (id === undefined) return undefined;
    const row = this.sql.get(this.db.selectFrom('lifecycle_previews').select(['status', 'text', 'started_at', 'results']).where('repository_id', '=', id));
    return row && { status: row.status as PreviewStatus, text: row.text, startedAt: new Date(row.started_at), results: decodeResults(row.results) };
  }

  async beginPreview(repo: RepoRef, text: string, at: Date, staleBefore: Date, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const id = this.#requireRepo(repo);
      const cur = this.sql.get(this.db.selectFrom('lifecycle_previews').select(['status', 'started_at']).where('repository_id', '=', id));
      if (cur && cur.status === 'IN_PROGRESS' && cur.started_at >= staleBefore.getTime()) return false;
      this.sql.run(this.db.insertInto('lifecycle_previews')
        .values({ repository_id: id, status: 'IN_PROGRESS', text, started_at: at.getTime(), results: '[]' })
        .onConflict((oc) => oc.column('repository_id').doUpdateSet({ status: 'IN_PROGRESS', text, started_at: at.getTime(), results: '[]' })));
      return true;
    });
  }

  async finishPreview(repo: RepoRef, startedAt: Date, status: PreviewStatus, results: LifecycleAction[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const id = this.#repoId(repo);
    if (id === undefined) return;
    this.sql.run(this.db.updateTable('lifecycle_previews').set({ status, results: encodeResults(results) })
      .where('repository_id', '=', id).where('started_at', '=', startedAt.getTime()));
  }

  async archiveStates(repo: RepoRef, signal: AbortSignal): Promise<Map<Digest, ImageArchiveState>> {
    signal.throwIfAborted();
    const id = this.#repoId(repo);
    const out = new Map<Digest, ImageArchiveState>();
    if (id === undefined) return out;
    for (const r of this.sql.all(this.db.selectFrom('image_archive').select(['digest', 'status', 'last_archived_at', 'last_activated_at']).where('repository_id', '=', id))) {
      out.set(r.digest as Digest, {
        status: r.status as ImageArchiveState['status'],
        ...(r.last_archived_at !== null ? { lastArchivedAt: new Date(r.last_archived_at) } : {}),
        ...(r.last_activated_at !== null ? { lastActivatedAt: new Date(r.last_activated_at) } : {}),
      });
    }
    return out;
  }

  async setArchiveState(repo: RepoRef, digest: Digest, state: ImageArchiveState, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.sql.write(() => {
      const id = this.#requireRepo(repo);
      if (!this.sql.get(this.db.selectFrom('manifests').select('digest').where('repository_id', '=', id).where('digest', '=', digest))) {
        throw fail('ImageNotFound', `The image with imageId {imageDigest:'${digest}'} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`);
      }
      const values = { status: state.status, last_archived_at: state.lastArchivedAt?.getTime() ?? null, last_activated_at: state.lastActivatedAt?.getTime() ?? null };
      this.sql.run(this.db.insertInto('image_archive').values({ repository_id: id, digest, ...values })
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doUpdateSet(values)));
    });
  }

  async addPullTimeExclusion(accountId: string, principalArn: string, at: Date, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.run(this.db.insertInto('pull_time_exclusions').values({ account_id: accountId, principal_arn: principalArn, created_at: at.getTime() })
      .onConflict((oc) => oc.columns(['account_id', 'principal_arn']).doNothing())) > 0;
  }

  async removePullTimeExclusion(accountId: string, principalArn: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.run(this.db.deleteFrom('pull_time_exclusions').where('account_id', '=', accountId).where('principal_arn', '=', principalArn)) > 0;
  }

  async listPullTimeExclusions(accountId: string, page: { after?: string; limit: number }, signal: AbortSignal): Promise<{ arn: string; createdAt: Date }[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('pull_time_exclusions').select(['principal_arn', 'created_at']).where('account_id', '=', accountId)
      .orderBy('principal_arn').limit(page.limit);
    if (page.after !== undefined) q = q.where('principal_arn', '>', page.after);
    return this.sql.all(q).map((r) => ({ arn: r.principal_arn, createdAt: new Date(r.created_at) }));
  }

  async close(): Promise<void> {
    this.sql.close();
  }
}
