import type { IamService } from '../../auth/iam-service.js';
import type { AwsOperations } from '../aws/context.js';
import { groupResource, op, optStr, pageFromFetched, pageInput, pageOfList, paging, str, userResource } from './common.js';
import { groupShape, userShape } from './shapes.js';

const groupOf = (i: Record<string, unknown>, p: { accountId: string }) => groupResource(p.accountId, str(i, 'GroupName'));

/** CreateGroup, GetGroup, ListGroups, DeleteGroup, AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser. */
export function groupOperations(iam: IamService): AwsOperations {
  return {
    CreateGroup: op('CreateGroup', (i, p) => groupResource(p.accountId, str(i, 'GroupName'), optStr(i, 'Path')), async (input, ctx) => {
      const group = await iam.createGroup(ctx.principal.accountId, str(input, 'GroupName'), optStr(input, 'Path') ?? '/', ctx.signal);
      return { Group: groupShape(group) };
    }),

    GetGroup: op('GetGroup', groupOf, async (input, ctx) => {
      const { accountId } = ctx.principal;
      const group = await iam.requireGroup(accountId, str(input, 'GroupName'), ctx.signal);
      const members = await iam.listGroupMembers(accountId, group.groupName, ctx.signal);
      const page = pageOfList(members, input, (u) => u.userName.toLowerCase());
      return { Group: groupShape(group), Users: page.items.map((u) => userShape(u, { tags: false })), ...paging(page) };
    }),

    ListGroups: op('ListGroups', () => '*', async (input, ctx) => {
      const { maxItems, marker } = pageInput(input);
      const pathPrefix = optStr(input, 'PathPrefix');
      const fetched = await iam.listGroups(ctx.principal.accountId, {
        maxItems: maxItems + 1, ...(marker ? { marker } : {}), ...(pathPrefix ? { pathPrefix } : {}),
      }, ctx.signal);
      const page = pageFromFetched(fetched, maxItems, (g) => g.groupName);
      return { Groups: page.items.map(groupShape), ...paging(page) };
    }),

    DeleteGroup: op('DeleteGroup', groupOf, async (input, ctx) => {
      const name = str(input, 'GroupName');
      await iam.requireGroup(ctx.principal.accountId, name, ctx.signal);
      await iam.deleteGroup(ctx.principal.accountId, name, ctx.signal);
      return {};
    }),

    AddUserToGroup: op('AddUserToGroup', groupOf, async (input, ctx) => {
      await membership(iam, ctx.principal.accountId, str(input, 'GroupName'), str(input, 'UserName'), true, ctx.signal);
      return {};
    }),

    RemoveUserFromGroup: op('RemoveUserFromGroup', groupOf, async (input, ctx) => {
      await membership(iam, ctx.principal.accountId, str(input, 'GroupName'), str(input, 'UserName'), false, ctx.signal);
      return {};
    }),

    ListGroupsForUser: op('ListGroupsForUser', (i, p) => userResource(p.accountId, str(i, 'UserName')), async (input, ctx) => {
      const { accountId } = ctx.principal;
      const user = await iam.requireUser(accountId, str(input, 'UserName'), ctx.signal);
      const groups = await iam.listGroupsForUser(accountId, user.userName, ctx.signal);
      const page = pageOfList(groups, input, (g) => g.groupName.toLowerCase());
      return { Groups: page.items.map(groupShape), ...paging(page) };
    }),
  };
}

async function membership(iam: IamService, accountId: string, groupName: string, userName: string, add: boolean, signal: AbortSignal): Promise<void> {
  // Checked up front so the error names the missing entity the way IAM does.
  await iam.requireGroup(accountId, groupName, signal);
  await iam.requireUser(accountId, userName, signal);
  await iam.changeMembership(accountId, groupName, userName, add, signal);
}
