import type { Kysely } from 'kysely';
import { fail } from '../../../core/errors.js';
import type { LoginProfile, LoginProfileStore } from '../../../core/ports/login-profiles.js';
import type { PublicSchema } from '../migrations/0009-public.js';
import { toProfileRow } from '../sqlite/sqlite-login-profiles.js';
import { leasePostgres, type PostgresHandle } from './open.js';
import { isUniqueViolation } from './pg-tx.js';

/** Opens the login-profile store on the PostgreSQL database at `url` (a lease of the process's one pool). */
export async function openPostgresLoginProfiles(opts: { url: string; poolSize: number }): Promise<PgLoginProfiles> {
  return new PgLoginProfiles(await leasePostgres(opts));
}

/** {@link LoginProfileStore} on PostgreSQL: only the scrypt hash is stored, as in SQLite. */
export class PgLoginProfiles implements LoginProfileStore {
  readonly #db: Kysely<PublicSchema>;

  /** Use {@link openPostgresLoginProfiles}; `handle` is released by {@link close}. */
  constructor(private readonly handle: PostgresHandle) {
    this.#db = handle.db as unknown as Kysely<PublicSchema>;
  }

  async get(accountId: string, userName: string, signal: AbortSignal): Promise<LoginProfile | undefined> {
    signal.throwIfAborted();
    const row = await this.#db.selectFrom('login_profiles').selectAll().where('account_id', '=', accountId).where('user_name', '=', userName).executeTakeFirst();
    return row && {
      accountId: row.account_id, userName: row.user_name, passwordHash: row.password_hash,
      passwordResetRequired: row.reset_required === 1, createdAt: new Date(row.created_at),
    };
  }

  async create(profile: LoginProfile, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    // A plain insert: the primary key makes "create once" atomic across nodes.
    await this.#db.insertInto('login_profiles').values(toProfileRow(profile)).execute().catch((e: unknown) => {
      throw isUniqueViolation(e) ? fail('EntityAlreadyExists', `Login Profile for user ${profile.userName} already exists.`) : e;
    });
  }

  async put(profile: LoginProfile, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.#db.insertInto('login_profiles').values(toProfileRow(profile))
      .onConflict((oc) => oc.columns(['account_id', 'user_name']).doUpdateSet({ password_hash: profile.passwordHash, reset_required: profile.passwordResetRequired ? 1 : 0 }))
      .execute();
  }

  async delete(accountId: string, userName: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return (await this.#db.deleteFrom('login_profiles').where('account_id', '=', accountId).where('user_name', '=', userName).executeTakeFirst()).numDeletedRows > 0n;
  }

  /** Releases this store's lease on the pool. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
