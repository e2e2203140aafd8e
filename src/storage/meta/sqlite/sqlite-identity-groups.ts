/** Groups and group membership of the SQLite identity store. Every method is synchronous and atomic. */
import type { Compilable } from 'kysely';
import { fail } from '../../../core/errors.js';
import type { IamGroup, IamUser } from '../../../core/identity.js';
import type { IamPage } from '../../../core/ports/identity-store.js';
import {
  alreadyExists, deleteConflict, findGroup, limitOf, requireAccount, requireGroup, requireUser, startsWith, toGroup, toUser,
  type IdentityDb,
} from './sqlite-identity-common.js';

export class SqliteIdentityGroups {
  constructor(private readonly c: IdentityDb) {}

  createGroup(group: IamGroup): IamGroup {
    const { db, sql } = this.c;
    return sql.write(() => {
      requireAccount(this.c, group.accountId);
      if (findGroup(this.c, group.accountId, group.groupName)) throw alreadyExists('group', group.groupName, group.accountId);
      if (sql.get(db.selectFrom('iam_groups').select('group_id').where('group_id', '=', group.groupId))) {
        throw fail('EntityAlreadyExists', 'group id already in use', { groupId: group.groupId });
      }
      sql.run(db.insertInto('iam_groups').values({
        account_id: group.accountId, group_name: group.groupName, group_name_lower: group.groupName.toLowerCase(),
        group_id: group.groupId, path: group.path, created_at: group.createdAt.getTime(),
      }));
      return toGroup(requireGroup(this.c, group.accountId, group.groupName));
    });
  }

  getGroup(accountId: string, groupName: string): IamGroup | undefined {
    const row = findGroup(this.c, accountId, groupName);
    return row && toGroup(row);
  }

  listGroups(accountId: string, page: IamPage): IamGroup[] {
    let q = this.c.db.selectFrom('iam_groups').selectAll().where('account_id', '=', accountId)
      .orderBy('group_name_lower').limit(limitOf(page));
    if (page.marker !== undefined) q = q.where('group_name_lower', '>', page.marker.toLowerCase());
    if (page.pathPrefix !== undefined) q = q.where(startsWith('path', page.pathPrefix));
    return this.c.sql.all(q).map(toGroup);
  }

  deleteGroup(accountId: string, groupName: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const group = requireGroup(this.c, accountId, groupName);
      const owner = { account_id: accountId, owner_kind: 'group', owner_name_lower: group.group_name_lower };
      const has: Record<string, Compilable<unknown>> = {
        members: db.selectFrom('group_members').select('account_id')
          .where('account_id', '=', accountId).where('group_name_lower', '=', group.group_name_lower).limit(1),
        'inline policies': db.selectFrom('inline_policies').select('account_id').where((eb) => eb.and(owner)).limit(1),
        'attached policies': db.selectFrom('policy_attachments').select('account_id').where((eb) => eb.and(owner)).limit(1),
      };
      for (const [blocker, q] of Object.entries(has)) {
        if (sql.get(q)) throw deleteConflict('group', group.group_name, blocker);
      }
      sql.run(db.deleteFrom('iam_groups').where('account_id', '=', accountId).where('group_name_lower', '=', group.group_name_lower));
    });
  }

  addUserToGroup(accountId: string, groupName: string, userName: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const group = requireGroup(this.c, accountId, groupName);
      const user = requireUser(this.c, accountId, userName);
      sql.run(db.insertInto('group_members')
        .values({ account_id: accountId, group_name_lower: group.group_name_lower, user_name_lower: user.user_name_lower })
        .onConflict((oc) => oc.columns(['account_id', 'group_name_lower', 'user_name_lower']).doNothing()));
    });
  }

  removeUserFromGroup(accountId: string, groupName: string, userName: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const group = requireGroup(this.c, accountId, groupName);
      const user = requireUser(this.c, accountId, userName);
      sql.run(db.deleteFrom('group_members').where('account_id', '=', accountId)
        .where('group_name_lower', '=', group.group_name_lower).where('user_name_lower', '=', user.user_name_lower));
    });
  }

  listGroupMembers(accountId: string, groupName: string): IamUser[] {
    const { db, sql } = this.c;
    const group = requireGroup(this.c, accountId, groupName);
    return sql.all(db.selectFrom('group_members as m')
      .innerJoin('iam_users as u', (j) => j.onRef('u.account_id', '=', 'm.account_id').onRef('u.user_name_lower', '=', 'm.user_name_lower'))
      .selectAll('u').where('m.account_id', '=', accountId).where('m.group_name_lower', '=', group.group_name_lower)
      .orderBy('u.user_name_lower')).map(toUser);
  }

  listGroupsForUser(accountId: string, userName: string): IamGroup[] {
    return groupsOf(this.c, accountId, requireUser(this.c, accountId, userName).user_name_lower).map(toGroup);
  }
}

/** The groups a user (by lower-cased name) is in, ordered by name. */
export function groupsOf(c: IdentityDb, accountId: string, userNameLower: string) {
  return c.sql.all(c.db.selectFrom('group_members as m')
    .innerJoin('iam_groups as g', (j) => j.onRef('g.account_id', '=', 'm.account_id').onRef('g.group_name_lower', '=', 'm.group_name_lower'))
    .selectAll('g').where('m.account_id', '=', accountId).where('m.user_name_lower', '=', userNameLower)
    .orderBy('g.group_name_lower'));
}
