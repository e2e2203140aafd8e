import { fail } from '../../core/errors.js';
import type { ResourceTag } from '../../core/identity.js';
import type { IamService } from '../../auth/iam-service.js';
import type { AwsInput, AwsOperations } from '../aws/context.js';
import { op, optStr, pageFromFetched, pageInput, pageOfList, paging, str, targetUserResource, userResource } from './common.js';
import { rootUserShape, userShape } from './shapes.js';

const tagsOf = (input: AwsInput): ResourceTag[] =>
  Array.isArray(input.Tags) ? (input.Tags as { Key: string; Value: string }[]).map((t) => ({ Key: t.Key, Value: t.Value })) : [];

/** CreateUser, GetUser, ListUsers, DeleteUser, TagUser, UntagUser, ListUserTags. */
export function userOperations(iam: IamService): AwsOperations {
  return {
    CreateUser: op('CreateUser', (i, p) => userResource(p.accountId, str(i, 'UserName'), optStr(i, 'Path')), async (input, ctx) => {
      if (input.PermissionsBoundary !== undefined) throw fail('InvalidParameter', 'berth does not support permissions boundaries.');
      const user = await iam.createUser(ctx.principal.accountId, str(input, 'UserName'), optStr(input, 'Path') ?? '/', tagsOf(input), ctx.signal);
      return { User: userShape(user, { tags: true }) };
    }),

    GetUser: op('GetUser', targetUserResource, async (input, ctx) => {
      const { accountId } = ctx.principal;
      const name = optStr(input, 'UserName') ?? ctx.principal.userName;
      if (name === undefined) {
        const account = await iam.getAccount(accountId, ctx.signal);
        return { User: rootUserShape(accountId, account?.createdAt ?? new Date(0)) };
      }
      return { User: userShape(await iam.requireUser(accountId, name, ctx.signal), { tags: true }) };
    }),

    ListUsers: op('ListUsers', () => '*', async (input, ctx) => {
      const { maxItems, marker } = pageInput(input);
      const pathPrefix = optStr(input, 'PathPrefix');
      const fetched = await iam.listUsers(ctx.principal.accountId, {
        maxItems: maxItems + 1, ...(marker ? { marker } : {}), ...(pathPrefix ? { pathPrefix } : {}),
      }, ctx.signal);
      const page = pageFromFetched(fetched, maxItems, (u) => u.userName);
      return { Users: page.items.map((u) => userShape(u, { tags: false })), ...paging(page) };
    }),

    DeleteUser: op('DeleteUser', (i, p) => userResource(p.accountId, str(i, 'UserName')), async (input, ctx) => {
      const name = str(input, 'UserName');
      await iam.requireUser(ctx.principal.accountId, name, ctx.signal);
      await iam.deleteUser(ctx.principal.accountId, name, ctx.signal);
      return {};
    }),

    TagUser: op('TagUser', (i, p) => userResource(p.accountId, str(i, 'UserName')), async (input, ctx) => {
      const name = str(input, 'UserName');
      await iam.requireUser(ctx.principal.accountId, name, ctx.signal);
      await iam.tagUser(ctx.principal.accountId, name, tagsOf(input), ctx.signal);
      return {};
    }),

    UntagUser: op('UntagUser', (i, p) => userResource(p.accountId, str(i, 'UserName')), async (input, ctx) => {
      const name = str(input, 'UserName');
      await iam.requireUser(ctx.principal.accountId, name, ctx.signal);
      await iam.untagUser(ctx.principal.accountId, name, (input.TagKeys as string[] | undefined) ?? [], ctx.signal);
      return {};
    }),

    ListUserTags: op('ListUserTags', (i, p) => userResource(p.accountId, str(i, 'UserName')), async (input, ctx) => {
      const user = await iam.requireUser(ctx.principal.accountId, str(input, 'UserName'), ctx.signal);
      const page = pageOfList(user.tags, input, (t) => t.Key);
      return { Tags: page.items.map((t) => ({ Key: t.Key, Value: t.Value })), ...paging(page) };
    }),
  };
}
