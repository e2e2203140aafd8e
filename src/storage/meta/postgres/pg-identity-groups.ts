/** Groups and group membership of the PostgreSQL identity store. Check-then-write steps run SERIALIZABLE. */
import { fail } from '../../../core/errors.js';
import type { IamGroup, IamUser } from '../../../core/identity.js';
import type { IamPage } from '../../../core/ports/identity-store.js';
import {
  alreadyExists, deleteConflict, findGroup, limitOf, requireAccount, requireGroup, requireUser, startsWith, toGroup, toUser,
  type Db, type GroupRow,
} from './pg-identity-common.js';
import { serializable } from './pg-tx.js';

export class PgIdentityGroups {
  constructor(private readonly db: Db) {}

  async createGroup(group: IamGroup): Promise<IamGroup> {
    return serializable(this.db, async (trx) => {
      await requireAccount(trx, group.accountId);
      if (await findGroup(trx, group.accountId, group.groupName)) throw alreadyExists('group', group.groupName, group.accountId);
      if (await trx.selectFrom('iam_groups').select('group_id').where('group_id', '=', group.groupId).executeTakeFirst()) {
        throw fail('EntityAlreadyExists', 'group id already in use', { groupId: group.groupId });
      }
      await trx.insertInto('iam_groups').values({
        account_id: group.accountId, group_name: group.groupName, group_name_lower: group.groupName.toLowerCase(),
        group_id: group.groupId, path: group.path, created_at: group.createdAt.getTime(),
      }).execute();
      return toGroup(await requireGroup(trx, group.accountId, group.groupName));
    });
  }

  async getGroup(accountId: string, groupName: string): Promise<IamGroup | undefined> {
    const row = await findGroup(this.db, accountId, groupName);
    return row && toGroup(row);
  }

  async listGroups(accountId: string, page: IamPage): Promise<IamGroup[]> {
    let q = this.db.selectFrom('iam_groups').selectAll().where('account_id', '=', accountId)
      .orderBy('group_name_lower').limit(limitOf(page));
    if (page.marker !== undefined) q = q.where('group_name_lower', '>', page.marker.toLowerCase());
    if (page.pathPrefix !== undefined) q = q.where(startsWith('path', page.pathPrefix));
    return (await q.execute()).map(toGroup);
  }

  async deleteGroup(accountId: string, groupName: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const group = await requireGroup(trx, accountId, groupName);
      const owner = { account_id: accountId, owner_kind: 'group', owner_name_lower: group.group_name_lower };
      const has = {
        members: () => trx.selectFrom('group_members').select('account_id')
          .where('account_id', '=', accountId).where('group_name_lower', '=', group.group_name_lower).limit(1).executeTakeFirst(),
        'inline policies': () => trx.selectFrom('inline_policies').select('account_id').where((eb) => eb.and(owner)).limit(1).executeTakeFirst(),
        'attached policies': () => trx.selectFrom('policy_attachments').select('account_id').where((eb) => eb.and(owner)).limit(1).executeTakeFirst(),
      };
      for (const [blocker, q] of Object.entries(has)) {
        if (await q()) throw deleteConflict('group', group.group_name, blocker);
      }
      await trx.deleteFrom('iam_groups').where('account_id', '=', accountId).where('group_name_lower', '=', group.group_name_lower).execute();
    });
  }

  async addUserToGroup(accountId: string, groupName: string, userName: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const group = await requireGroup(trx, accountId, groupName);
      const user = await requireUser(trx, accountId, userName);
      await trx.insertInto('group_members')
        .values({ account_id: accountId, group_name_lower: group.group_name_lower, user_name_lower: user.user_name_lower })
        .onConflict((oc) => oc.columns(['account_id', 'group_name_lower', 'user_name_lower']).doNothing()).execute();
    });
  }

  async removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const group = await requireGroup(trx, accountId, groupName);
      const user = await requireUser(trx, accountId, userName);
      await trx.deleteFrom('group_members').where('account_id', '=', accountId)
        .where('group_name_lower', '=', group.group_name_lower).where('user_name_lower', '=', user.user_name_lower).execute();
    });
  }

  async listGroupMembers(accountId: string, groupName: string): Promise<IamUser[]> {
    const group = await requireGroup(this.db, accountId, groupName);
    return (await this.db.selectFrom('group_members as m')
      .innerJoin('iam_users as u', (j) => j.onRef('u.account_id', '=', 'm.account_id').onRef('u.user_name_lower', '=', 'm.user_name_lower'))
      .selectAll('u').where('m.account_id', '=', accountId).where('m.group_name_lower', '=', group.group_name_lower)
      .orderBy('u.user_name_lower').execute()).map(toUser);
  }

  async listGroupsForUser(accountId: string, userName: string): Promise<IamGroup[]> {
    return (await groupsOf(this.db, accountId, (await requireUser(this.db, accountId, userName)).user_name_lower)).map(toGroup);
  }
}

/** The groups a user (by lower-cased name) is in, ordered by name. */
export function groupsOf(db: Db, accountId: string, userNameLower: string): Promise<GroupRow[]> {
  return db.selectFrom('group_members as m')
    .innerJoin('iam_groups as g', (j) => j.onRef('g.account_id', '=', 'm.account_id').onRef('g.group_name_lower', '=', 'm.group_name_lower'))
    .selectAll('g').where('m.account_id', '=', accountId).where('m.user_name_lower', '=', userNameLower)
    .orderBy('g.group_name_lower').execute();
}
