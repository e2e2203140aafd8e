import type { Kysely } from 'kysely';
import { fail } from '../../../core/errors.js';
import type { LoginProfile, LoginProfileStore } from '../../../core/ports/login-profiles.js';
import type { PublicSchema } from '../migrations/0009-public.js';
import { openSqlite } from './open.js';
import type { Statements } from './statements.js';

/** Opens the login-profile store on the metadata file at `path` (`':memory:'` for tests), migrating it first. */
export async function openSqliteLoginProfiles(opts: { path: string }): Promise<SqliteLoginProfiles> {
  const { db, sql } = await openSqlite<PublicSchema>(opts.path);
  return new SqliteLoginProfiles(db, sql);
}

/** {@link LoginProfileStore} on SQLite. */
export class SqliteLoginProfiles implements LoginProfileStore {
  constructor(private readonly db: Kysely<PublicSchema>, private readonly sql: Statements) {}

  async get(accountId: string, userName: string, signal: AbortSignal): Promise<LoginProfile | undefined> {
    signal.throwIfAborted();
    const row = this.sql.get(this.db.selectFrom('login_profiles').selectAll().where('account_id', '=', accountId).where('user_name', '=', userName));
    return row && {
      accountId: row.account_id, userName: row.user_name, passwordHash: row.password_hash,
      passwordResetRequired: row.reset_required === 1, createdAt: new Date(row.created_at),
    };
  }

  async create(profile: LoginProfile, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.sql.write(() => {
      const exists = this.sql.get(this.db.selectFrom('login_profiles').select('user_name').where('account_id', '=', profile.accountId).where('user_name', '=', profile.userName));
      if (exists) throw fail('EntityAlreadyExists', `Login Profile for user ${profile.userName} already exists.`);
      this.sql.run(this.db.insertInto('login_profiles').values(toProfileRow(profile)));
    });
  }

  async put(profile: LoginProfile, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.sql.run(this.db.insertInto('login_profiles').values(toProfileRow(profile))
      .onConflict((oc) => oc.columns(['account_id', 'user_name']).doUpdateSet({ password_hash: profile.passwordHash, reset_required: profile.passwordResetRequired ? 1 : 0 })));
  }

  async delete(accountId: string, userName: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.run(this.db.deleteFrom('login_profiles').where('account_id', '=', accountId).where('user_name', '=', userName)) > 0;
  }

  async close(): Promise<void> {
    this.sql.close();
  }
}

export const toProfileRow = (p: LoginProfile): PublicSchema['login_profiles'] => ({
  account_id: p.accountId, user_name: p.userName, password_hash: p.passwordHash,
  reset_required: p.passwordResetRequired ? 1 : 0, created_at: p.createdAt.getTime(),
});
