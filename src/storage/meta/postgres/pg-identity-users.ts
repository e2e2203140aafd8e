/** Accounts, users and access keys of the PostgreSQL identity store. Check-then-write steps run SERIALIZABLE. */
import { fail } from '../../../core/errors.js';
import type { AccessKey, AccessKeyStatus, Account, IamUser, ResourceTag } from '../../../core/identity.js';
import type { IamPage } from '../../../core/ports/identity-store.js';
import { bytesParam } from '../sqlite/rows.js';
import {
  alreadyExists, deleteConflict, findUser, limitOf, MAX_ACCESS_KEYS, mergeTags, noSuchEntity, requireAccount, requireUser,
  startsWith, toKey, toUser, TOUCH_COALESCE_MS, type Db, type KeyRow,
} from './pg-identity-common.js';
import { serializable } from './pg-tx.js';

export class PgIdentityUsers {
  constructor(private readonly db: Db) {}

  async ensureAccount(id: string): Promise<Account> {
    // ON CONFLICT DO NOTHING is atomic on its own: two nodes ensuring the same account both succeed.
    await this.db.insertInto('accounts').values({ id, created_at: Date.now() }).onConflict((oc) => oc.column('id').doNothing()).execute();
    return (await this.getAccount(id))!;
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').select('created_at').where('id', '=', id).executeTakeFirst();
    return row && { id, createdAt: new Date(row.created_at) };
  }

  async createUser(user: IamUser): Promise<IamUser> {
    const tags = mergeTags([], user.tags);
    return serializable(this.db, async (trx) => {
      await requireAccount(trx, user.accountId);
      if (await findUser(trx, user.accountId, user.userName)) throw alreadyExists('user', user.userName, user.accountId);
      if (await trx.selectFrom('iam_users').select('user_id').where('user_id', '=', user.userId).executeTakeFirst()) {
        throw fail('EntityAlreadyExists', 'user id already in use', { userId: user.userId });
      }
      await trx.insertInto('iam_users').values({
        account_id: user.accountId, user_name: user.userName, user_name_lower: user.userName.toLowerCase(),
        user_id: user.userId, path: user.path, created_at: user.createdAt.getTime(), tags: JSON.stringify(tags),
      }).execute();
      return toUser(await requireUser(trx, user.accountId, user.userName));
    });
  }

  async getUser(accountId: string, userName: string): Promise<IamUser | undefined> {
    const row = await findUser(this.db, accountId, userName);
    return row && toUser(row);
  }

  async listUsers(accountId: string, page: IamPage): Promise<IamUser[]> {
    let q = this.db.selectFrom('iam_users').selectAll().where('account_id', '=', accountId)
      .orderBy('user_name_lower').limit(limitOf(page));
    if (page.marker !== undefined) q = q.where('user_name_lower', '>', page.marker.toLowerCase());
    if (page.pathPrefix !== undefined) q = q.where(startsWith('path', page.pathPrefix));
    return (await q.execute()).map(toUser);
  }

  async deleteUser(accountId: string, userName: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const user = await requireUser(trx, accountId, userName);
      const owner = { account_id: accountId, owner_kind: 'user', owner_name_lower: user.user_name_lower };
      const has = {
        'access keys': () => trx.selectFrom('access_keys').select('account_id')
          .where('account_id', '=', accountId).where('user_name', '=', user.user_name).limit(1).executeTakeFirst(),
        'inline policies': () => trx.selectFrom('inline_policies').select('account_id').where((eb) => eb.and(owner)).limit(1).executeTakeFirst(),
        'attached policies': () => trx.selectFrom('policy_attachments').select('account_id').where((eb) => eb.and(owner)).limit(1).executeTakeFirst(),
        'group memberships': () => trx.selectFrom('group_members').select('account_id')
          .where('account_id', '=', accountId).where('user_name_lower', '=', user.user_name_lower).limit(1).executeTakeFirst(),
      };
      for (const [blocker, q] of Object.entries(has)) {
        if (await q()) throw deleteConflict('user', user.user_name, blocker);
      }
      await trx.deleteFrom('iam_users').where('account_id', '=', accountId).where('user_name_lower', '=', user.user_name_lower).execute();
    });
  }

  tagUser(accountId: string, userName: string, tags: ResourceTag[]): Promise<void> {
    return this.#retag(accountId, userName, (current) => mergeTags(current, tags));
  }

  untagUser(accountId: string, userName: string, keys: string[]): Promise<void> {
    return this.#retag(accountId, userName, (current) => current.filter((t) => !keys.includes(t.Key)));
  }

  async createAccessKey(key: AccessKey): Promise<AccessKey> {
    return serializable(this.db, async (trx) => {
      await requireAccount(trx, key.accountId);
      const userName = key.userName === null ? null : (await requireUser(trx, key.accountId, key.userName)).user_name;
      if (await trx.selectFrom('access_keys').select('access_key_id').where('access_key_id', '=', key.accessKeyId).executeTakeFirst()) {
        throw fail('EntityAlreadyExists', 'access key id already in use', { accessKeyId: key.accessKeyId });
      }
      // Counted inside the serializable transaction: two nodes adding a second key at once cannot both pass.
      if ((await keysOf(trx, key.accountId, userName)).length >= MAX_ACCESS_KEYS) {
        throw fail('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${MAX_ACCESS_KEYS}`, { accountId: key.accountId, userName });
      }
      await trx.insertInto('access_keys').values({
        access_key_id: key.accessKeyId, account_id: key.accountId, user_name: userName, status: key.status,
        secret_ciphertext: bytesParam(key.secretCiphertext), created_at: key.createdAt.getTime(),
        last_used_at: key.lastUsedAt?.getTime() ?? null,
      }).execute();
      return toKey((await trx.selectFrom('access_keys').selectAll().where('access_key_id', '=', key.accessKeyId).executeTakeFirstOrThrow()));
    });
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    const row = await this.db.selectFrom('access_keys').selectAll().where('access_key_id', '=', accessKeyId).executeTakeFirst();
    return row && toKey(row);
  }

  async listAccessKeys(accountId: string, userName: string | null): Promise<AccessKey[]> {
    const name = userName === null ? null : (await requireUser(this.db, accountId, userName)).user_name;
    return (await keysOf(this.db, accountId, name)).map(toKey);
  }

  async updateAccessKeyStatus(accountId: string, userName: string | null, accessKeyId: string, status: AccessKeyStatus): Promise<void> {
    await serializable(this.db, async (trx) => {
      await requireOwnedKey(trx, accountId, userName, accessKeyId);
      await trx.updateTable('access_keys').set({ status }).where('access_key_id', '=', accessKeyId).execute();
    });
  }

  async deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      await requireOwnedKey(trx, accountId, userName, accessKeyId);
      await trx.deleteFrom('access_keys').where('access_key_id', '=', accessKeyId).execute();
    });
  }

  /** One conditional UPDATE (atomic on its own): skipped when the recorded use is under a minute old. */
  async touchAccessKey(accessKeyId: string, at: Date): Promise<void> {
    const t = at.getTime();
    await this.db.updateTable('access_keys').set({ last_used_at: t })
      .where('access_key_id', '=', accessKeyId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', t - TOUCH_COALESCE_MS)]))
      .execute();
  }

  async #retag(accountId: string, userName: string, change: (current: ResourceTag[]) => ResourceTag[]): Promise<void> {
    await serializable(this.db, async (trx) => {
      const user = await requireUser(trx, accountId, userName);
      const tags = change(JSON.parse(user.tags) as ResourceTag[]);
      await trx.updateTable('iam_users').set({ tags: JSON.stringify(tags) })
        .where('account_id', '=', accountId).where('user_name_lower', '=', user.user_name_lower).execute();
    });
  }
}

/** Keys of a user (canonical name) or of the root (`null`), oldest first. */
function keysOf(db: Db, accountId: string, userName: string | null): Promise<KeyRow[]> {
  const q = db.selectFrom('access_keys').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('access_key_id');
  return (userName === null ? q.where('user_name', 'is', null) : q.where('user_name', '=', userName)).execute();
}

/** Throws `NoSuchEntity` unless the key exists and belongs to that user (or root) of that account. */
async function requireOwnedKey(db: Db, accountId: string, userName: string | null, accessKeyId: string): Promise<void> {
  const owner = userName === null ? null : (await requireUser(db, accountId, userName)).user_name;
  const key = await db.selectFrom('access_keys').select(['account_id', 'user_name']).where('access_key_id', '=', accessKeyId).executeTakeFirst();
  if (!key || key.account_id !== accountId || key.user_name !== owner) throw noSuchEntity('access key', accessKeyId, { accessKeyId });
}
