import type { Kysely } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import type { ImageArchiveState, LifecycleAction, PreviewStatus, RepoRef } from '../../../core/lifecycle.js';
import type { LifecycleStore, StoredPolicy, StoredPreview } from '../../../core/ports/lifecycle-store.js';
import type { LifecycleSchema } from '../migrations/index.js';
import { decodeResults, encodeResults, toPolicy } from '../sqlite/sqlite-lifecycle-store.js';
import { leasePostgres, type PostgresHandle } from './open.js';
import { serializable } from './pg-tx.js';

/** Opens the lifecycle store on the PostgreSQL database at `url` (a lease of the process's one pool). */
export async function openPostgresLifecycleStore(opts: { url: string; poolSize: number }): Promise<PgLifecycleStore> {
  return new PgLifecycleStore(await leasePostgres(opts));
}

/** SQLSTATE foreign_key_violation: the repository (or manifest) was deleted by another node meanwhile. */
const FOREIGN_KEY_VIOLATION = '23503';
const POLICY_COLUMNS = ['text', 'updated_at', 'last_evaluated_at', 'last_expired', 'last_transitioned'] as const;

const repositoryNotFound = (repo: RepoRef) =>
  fail('RepositoryNotFound', `The repository with name '${repo.name}' does not exist in the registry with id '${repo.accountId}'`);
const imageNotFound = (repo: RepoRef, digest: Digest) =>
  fail('ImageNotFound', `The image with imageId {imageDigest:'${digest}'} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`);

/**
 * {@link LifecycleStore} on PostgreSQL, rows mapped as in the SQLite store. Single-statement steps
 * are atomic on their own; check-then-write steps (a preview's "one at a time") run SERIALIZABLE.
 * A repository or manifest another node deletes between the check and the write surfaces as the
 * foreign-key violation of the write, reported as the same not-found error.
 */
export class PgLifecycleStore implements LifecycleStore {
  readonly #db: Kysely<LifecycleSchema>;

  /** Use {@link openPostgresLifecycleStore}; `handle` is released by {@link close}. */
  constructor(private readonly handle: PostgresHandle) {
    this.#db = handle.db as unknown as Kysely<LifecycleSchema>;
  }

  async #repoId(db: Kysely<LifecycleSchema>, repo: RepoRef): Promise<number | undefined> {
    return (await db.selectFrom('repositories').select('id').where('name', '=', repo.name).where('account_id', '=', repo.accountId).executeTakeFirst())?.id;
  }

  async #requireRepo(db: Kysely<LifecycleSchema>, repo: RepoRef): Promise<number> {
    const id = await this.#repoId(db, repo);
    if (id === undefined) throw repositoryNotFound(repo);
    return id;
  }

  async getPolicy(repo: RepoRef, signal: AbortSignal): Promise<StoredPolicy | undefined> {
    signal.throwIfAborted();
    const row = await this.#db.selectFrom('lifecycle_policies as p').innerJoin('repositories as r', 'r.id', 'p.repository_id')
      .select(POLICY_COLUMNS.map((c) => `p.${c}` as const)).where('r.name', '=', repo.name).where('r.account_id', '=', repo.accountId)
      .executeTakeFirst();
    return row && toPolicy(row);
  }

  async putPolicy(repo: RepoRef, text: string, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const id = await this.#requireRepo(this.#db, repo);
    await this.#db.insertInto('lifecycle_policies')
      .values({ repository_id: id, text, updated_at: at.getTime(), last_evaluated_at: null, last_expired: null, last_transitioned: null })
      .onConflict((oc) => oc.column('repository_id').doUpdateSet({ text, updated_at: at.getTime() }))
      .execute().catch((e: unknown) => {
        throw (e as { code?: unknown }).code === FOREIGN_KEY_VIOLATION ? repositoryNotFound(repo) : e;
      });
  }

  async deletePolicy(repo: RepoRef, signal: AbortSignal): Promise<StoredPolicy | undefined> {
    signal.throwIfAborted();
    const id = await this.#repoId(this.#db, repo);
    if (id === undefined) return undefined;
    // One statement: of two nodes deleting at once, one gets the policy and the other `undefined`.
    const row = await this.#db.deleteFrom('lifecycle_policies').where('repository_id', '=', id).returning([...POLICY_COLUMNS]).executeTakeFirst();
    return row && toPolicy(row);
  }

  async recordRun(repo: RepoRef, run: { at: Date; expired: number; transitioned: number }, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const id = await this.#repoId(this.#db, repo);
    if (id === undefined) return;
    await this.#db.updateTable('lifecycle_policies')
      .set({ last_evaluated_at: run.at.getTime(), last_expired: run.expired, last_transitioned: run.transitioned })
      .where('repository_id', '=', id).execute();
  }

  async listPolicies(signal: AbortSignal): Promise<(StoredPolicy & { repo: RepoRef })[]> {
    signal.throwIfAborted();
    return (await this.#db.selectFrom('lifecycle_policies as p').innerJoin('repositories as r', 'r.id', 'p.repository_id')
      .select(['r.name', 'r.account_id', 'p.text', 'p.updated_at', 'p.last_evaluated_at', 'p.last_expired', 'p.last_transitioned'])
      .orderBy('r.account_id').orderBy('r.name').execute())
      .map((row) => ({ ...toPolicy(row), repo: { accountId: row.account_id, name: row.name } }));
  }

  async getPreview(repo: RepoRef, signal: AbortSignal): Promise<StoredPreview | undefined> {
    signal.throwIfAborted();
    const row = await this.#db.selectFrom('lifecycle_previews as p').innerJoin('repositories as r', 'r.id', 'p.repository_id')
      .select(['p.status', 'p.text', 'p.started_at', 'p.results']).where('r.name', '=', repo.name).where('r.account_id', '=', repo.accountId)
      .executeTakeFirst();
    return row && { status: row.status as PreviewStatus, text: row.text, startedAt: new Date(row.started_at), results: decodeResults(row.results) };
  }

  async beginPreview(repo: RepoRef, text: string, at: Date, staleBefore: Date, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    // SERIALIZABLE: two nodes starting a preview of one repository at once cannot both get `true`.
    return serializable(this.#db, async (trx) => {
      const id = await this.#requireRepo(trx, repo);
      const cur = await trx.selectFrom('lifecycle_previews').select(['status', 'started_at']).where('repository_id', '=', id).executeTakeFirst();
      if (cur && cur.status === 'IN_PROGRESS' && cur.started_at >= staleBefore.getTime()) return false;
      const values = { status: 'IN_PROGRESS', text, started_at: at.getTime(), results: '[]' };
      await trx.insertInto('lifecycle_previews').values({ repository_id: id, ...values })
        .onConflict((oc) => oc.column('repository_id').doUpdateSet(values)).execute();
      return true;
    });
  }

  async finishPreview(repo: RepoRef, startedAt: Date, status: PreviewStatus, results: LifecycleAction[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const id = await this.#repoId(this.#db, repo);
    if (id === undefined) return;
    await this.#db.updateTable('lifecycle_previews').set({ status, results: encodeResults(results) })
      .where('repository_id', '=', id).where('started_at', '=', startedAt.getTime()).execute();
  }

  async archiveStates(repo: RepoRef, signal: AbortSignal): Promise<Map<Digest, ImageArchiveState>> {
    signal.throwIfAborted();
    const out = new Map<Digest, ImageArchiveState>();
    const rows = await this.#db.selectFrom('image_archive as a').innerJoin('repositories as r', 'r.id', 'a.repository_id')
      .select(['a.digest', 'a.status', 'a.last_archived_at', 'a.last_activated_at'])
      .where('r.name', '=', repo.name).where('r.account_id', '=', repo.accountId).execute();
    for (const r of rows) {
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
    const id = await this.#requireRepo(this.#db, repo);
    if (!(await this.#db.selectFrom('manifests').select('digest').where('repository_id', '=', id).where('digest', '=', digest).executeTakeFirst())) {
      throw imageNotFound(repo, digest);
    }
    const values = { status: state.status, last_archived_at: state.lastArchivedAt?.getTime() ?? null, last_activated_at: state.lastActivatedAt?.getTime() ?? null };
    // The manifest foreign key catches an image deleted on another node since the check above.
    await this.#db.insertInto('image_archive').values({ repository_id: id, digest, ...values })
      .onConflict((oc) => oc.columns(['repository_id', 'digest']).doUpdateSet(values))
      .execute().catch((e: unknown) => {
        throw (e as { code?: unknown }).code === FOREIGN_KEY_VIOLATION ? imageNotFound(repo, digest) : e;
      });
  }

  async addPullTimeExclusion(accountId: string, principalArn: string, at: Date, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    const r = await this.#db.insertInto('pull_time_exclusions').values({ account_id: accountId, principal_arn: principalArn, created_at: at.getTime() })
      .onConflict((oc) => oc.columns(['account_id', 'principal_arn']).doNothing()).executeTakeFirst();
    return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async removePullTimeExclusion(accountId: string, principalArn: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    const r = await this.#db.deleteFrom('pull_time_exclusions').where('account_id', '=', accountId).where('principal_arn', '=', principalArn).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async listPullTimeExclusions(accountId: string, page: { after?: string; limit: number }, signal: AbortSignal): Promise<{ arn: string; createdAt: Date }[]> {
    signal.throwIfAborted();
    let q = this.#db.selectFrom('pull_time_exclusions').select(['principal_arn', 'created_at']).where('account_id', '=', accountId)
      .orderBy('principal_arn').limit(page.limit);
    if (page.after !== undefined) q = q.where('principal_arn', '>', page.after);
    return (await q.execute()).map((r) => ({ arn: r.principal_arn, createdAt: new Date(r.created_at) }));
  }

  /** Releases this store's lease on the pool. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
