/** Accounts, users and access keys of the SQLite identity store. Every method is synchronous and atomic. */
import type { Compilable } from 'kysely';
import { fail } from '../../../core/errors.js';
import type { AccessKey, AccessKeyStatus, Account, IamUser, ResourceTag } from '../../../core/identity.js';
import type { IamPage } from '../../../core/ports/identity-store.js';
import {
  alreadyExists, deleteConflict, findUser, limitOf, MAX_ACCESS_KEYS, mergeTags, noSuchEntity, requireAccount, requireUser,
  startsWith, toKey, toUser, TOUCH_COALESCE_MS, type IdentityDb, type KeyRow,
} from './sqlite-identity-common.js';
import { bytesParam } from './rows.js';
import { sqlText } from './statements.js';

export class SqliteIdentityUsers {
  constructor(private readonly c: IdentityDb) {}

  ensureAccount(id: string): Account {
    const { sql } = this.c;
    return sql.write(() => {
      sql.run(sqlText('insert into accounts (id, created_at) values (?, ?) on conflict (id) do nothing', id, Date.now()));
      return this.getAccount(id)!;
    });
  }

  getAccount(id: string): Account | undefined {
    const row = this.c.sql.get(sqlText<{ created_at: number }>('select created_at from accounts where id = ?', id));
    return row && { id, createdAt: new Date(row.created_at) };
  }

  createUser(user: IamUser): IamUser {
    const { db, sql } = this.c;
    const tags = mergeTags([], user.tags);
    return sql.write(() => {
      requireAccount(this.c, user.accountId);
      if (findUser(this.c, user.accountId, user.userName)) throw alreadyExists('user', user.userName, user.accountId);
      if (sql.get(db.selectFrom('iam_users').select('user_id').where('user_id', '=', user.userId))) {
        throw fail('EntityAlreadyExists', 'user id already in use', { userId: user.userId });
      }
      sql.run(db.insertInto('iam_users').values({
        account_id: user.accountId, user_name: user.userName, user_name_lower: user.userName.toLowerCase(),
        user_id: user.userId, path: user.path, created_at: user.createdAt.getTime(), tags: JSON.stringify(tags),
      }));
      return toUser(requireUser(this.c, user.accountId, user.userName));
    });
  }

  getUser(accountId: string, userName: string): IamUser | undefined {
    const row = findUser(this.c, accountId, userName);
    return row && toUser(row);
  }

  listUsers(accountId: string, page: IamPage): IamUser[] {
    let q = this.c.db.selectFrom('iam_users').selectAll().where('account_id', '=', accountId)
      .orderBy('user_name_lower').limit(limitOf(page));
    if (page.marker !== undefined) q = q.where('user_name_lower', '>', page.marker.toLowerCase());
    if (page.pathPrefix !== undefined) q = q.where(startsWith('path', page.pathPrefix));
    return this.c.sql.all(q).map(toUser);
  }

  deleteUser(accountId: string, userName: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const user = requireUser(this.c, accountId, userName);
      const owner = { account_id: accountId, owner_kind: 'user', owner_name_lower: user.user_name_lower };
      const has: Record<string, Compilable<unknown>> = {
        'access keys': db.selectFrom('access_keys').select('account_id')
          .where('account_id', '=', accountId).where('user_name', '=', user.user_name).limit(1),
        'inline policies': db.selectFrom('inline_policies').select('account_id').where((eb) => eb.and(owner)).limit(1),
        'attached policies': db.selectFrom('policy_attachments').select('account_id').where((eb) => eb.and(owner)).limit(1),
        'group memberships': db.selectFrom('group_members').select('account_id')
          .where('account_id', '=', accountId).where('user_name_lower', '=', user.user_name_lower).limit(1),
      };
      for (const [blocker, q] of Object.entries(has)) {
        if (sql.get(q)) throw deleteConflict('user', user.user_name, blocker);
      }
      sql.run(db.deleteFrom('iam_users').where('account_id', '=', accountId).where('user_name_lower', '=', user.user_name_lower));
    });
  }

  tagUser(accountId: string, userName: string, tags: ResourceTag[]): void {
    this.#retag(accountId, userName, (current) => mergeTags(current, tags));
  }

  untagUser(accountId: string, userName: string, keys: string[]): void {
    this.#retag(accountId, userName, (current) => current.filter((t) => !keys.includes(t.Key)));
  }

  createAccessKey(key: AccessKey): AccessKey {
    const { sql } = this.c;
    return sql.write(() => {
      requireAccount(this.c, key.accountId);
      const userName = key.userName === null ? null : requireUser(this.c, key.accountId, key.userName).user_name;
      if (sql.get(sqlText('select access_key_id from access_keys where access_key_id = ?', key.accessKeyId))) {
        throw fail('EntityAlreadyExists', 'access key id already in use', { accessKeyId: key.accessKeyId });
      }
      if (this.#keysOf(key.accountId, userName).length >= MAX_ACCESS_KEYS) {
        throw fail('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${MAX_ACCESS_KEYS}`, { accountId: key.accountId, userName });
      }
      sql.run(sqlText(
        'insert into access_keys (access_key_id, account_id, user_name, status, secret_ciphertext, created_at, last_used_at) values (?, ?, ?, ?, ?, ?, ?)',
        key.accessKeyId, key.accountId, userName, key.status, bytesParam(key.secretCiphertext), key.createdAt.getTime(), key.lastUsedAt?.getTime() ?? null,
      ));
      return this.getAccessKey(key.accessKeyId)!;
    });
  }

  getAccessKey(accessKeyId: string): AccessKey | undefined {
    const row = this.c.sql.get(sqlText<KeyRow>('select * from access_keys where access_key_id = ?', accessKeyId));
    return row && toKey(row);
  }

  listAccessKeys(accountId: string, userName: string | null): AccessKey[] {
    const name = userName === null ? null : requireUser(this.c, accountId, userName).user_name;
    return this.#keysOf(accountId, name).map(toKey);
  }

  updateAccessKeyStatus(accountId: string, userName: string | null, accessKeyId: string, status: AccessKeyStatus): void {
    const { db, sql } = this.c;
    sql.write(() => {
      this.#requireOwnedKey(accountId, userName, accessKeyId);
      sql.run(db.updateTable('access_keys').set({ status }).where('access_key_id', '=', accessKeyId));
    });
  }

  deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      this.#requireOwnedKey(accountId, userName, accessKeyId);
      sql.run(db.deleteFrom('access_keys').where('access_key_id', '=', accessKeyId));
    });
  }

  /**
   * One conditional UPDATE (atomic on its own, no transaction): skipped when the recorded use is
   * under a minute old. Losing the race for the write lock is ignored rather than delaying the caller.
   */
  touchAccessKey(accessKeyId: string, at: Date): void {
    const t = at.getTime();
    try {
      this.c.sql.run(this.c.db.updateTable('access_keys').set({ last_used_at: t })
        .where('access_key_id', '=', accessKeyId)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', t - TOUCH_COALESCE_MS)])));
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) throw e;
    }
  }

  /** Keys of a user (canonical name) or of the root (`null`), oldest first. */
  #keysOf(accountId: string, userName: string | null): KeyRow[] {
    return this.c.sql.all(userName === null
      ? sqlText<KeyRow>('select * from access_keys where account_id = ? and user_name is null order by created_at, access_key_id', accountId)
      : sqlText<KeyRow>('select * from access_keys where account_id = ? and user_name = ? order by created_at, access_key_id', accountId, userName));
  }

  /** Throws `NoSuchEntity` unless the key exists and belongs to that user (or root) of that account. */
  #requireOwnedKey(accountId: string, userName: string | null, accessKeyId: string): void {
    const owner = userName === null ? null : requireUser(this.c, accountId, userName).user_name;
    const key = this.getAccessKey(accessKeyId);
    if (!key || key.accountId !== accountId || key.userName !== owner) throw noSuchEntity('access key', accessKeyId, { accessKeyId });
  }

  #retag(accountId: string, userName: string, change: (current: ResourceTag[]) => ResourceTag[]): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const user = requireUser(this.c, accountId, userName);
      const tags = change(JSON.parse(user.tags) as ResourceTag[]);
      sql.run(db.updateTable('iam_users').set({ tags: JSON.stringify(tags) })
        .where('account_id', '=', accountId).where('user_name_lower', '=', user.user_name_lower));
    });
  }
}
