import { fail } from '../../core/errors.js';
import type { AccessKeyStatus } from '../../core/identity.js';
import type { IamService } from '../../auth/iam-service.js';
import type { AwsOperations } from '../aws/context.js';
import { op, pageOfList, paging, str, targetUser, targetUserResource, userResource } from './common.js';
import { accessKeyMetadataShape } from './shapes.js';

/**
 * CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed.
 * Without `UserName` each acts on the caller's own keys (the root's, for the root).
 */
export function accessKeyOperations(iam: IamService): AwsOperations {
  return {
    CreateAccessKey: op('CreateAccessKey', targetUserResource, async (input, ctx) => {
      const { key, secretAccessKey } = await iam.createAccessKey(ctx.principal.accountId, targetUser(input, ctx.principal), ctx.signal);
      return {
        AccessKey: {
          ...(key.userName !== null ? { UserName: key.userName } : {}),
          AccessKeyId: key.accessKeyId, Status: key.status, SecretAccessKey: secretAccessKey, CreateDate: key.createdAt,
        },
      };
    }),

    ListAccessKeys: op('ListAccessKeys', targetUserResource, async (input, ctx) => {
      const keys = await iam.listAccessKeys(ctx.principal.accountId, targetUser(input, ctx.principal), ctx.signal);
      const page = pageOfList(keys, input, (k) => k.accessKeyId);
      return { AccessKeyMetadata: page.items.map(accessKeyMetadataShape), ...paging(page) };
    }),

    UpdateAccessKey: op('UpdateAccessKey', targetUserResource, async (input, ctx) => {
      const status = str(input, 'Status') as AccessKeyStatus;
      await iam.updateAccessKey(ctx.principal.accountId, targetUser(input, ctx.principal), str(input, 'AccessKeyId'), status, ctx.signal);
      return {};
    }),

    DeleteAccessKey: op('DeleteAccessKey', targetUserResource, async (input, ctx) => {
      await iam.deleteAccessKey(ctx.principal.accountId, targetUser(input, ctx.principal), str(input, 'AccessKeyId'), ctx.signal);
      return {};
    }),

    // The resource is the key's owner, known only after looking the key up: authorized in the handler.
    GetAccessKeyLastUsed: {
      access: null,
      handle: async (input, ctx) => {
        const id = str(input, 'AccessKeyId');
        const { accountId } = ctx.principal;
        const key = await iam.getAccessKey(id, ctx.signal);
        const mine = key !== undefined && key.accountId === accountId;
        const resource = !mine ? '*' : key.userName === null ? `arn:aws:iam::${accountId}:root` : userResource(accountId, key.userName);
        await ctx.authorize('iam:GetAccessKeyLastUsed', { resource });
        if (!mine) throw fail('NoSuchEntity', `The Access Key with id ${id} cannot be found`, { accessKeyId: id });
        // berth records when a key was last used, not for which service or region.
        return {
          ...(key.userName !== null ? { UserName: key.userName } : {}),
          AccessKeyLastUsed: {
            ...(key.lastUsedAt ? { LastUsedDate: key.lastUsedAt } : {}),
            ServiceName: 'N/A',
            Region: 'N/A',
          },
        };
      },
    },
  };
}
