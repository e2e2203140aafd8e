import { kmsFail } from '../../core/services/kms/errors.js';
import type { AwsCallContext, AwsOperations } from '../aws/context.js';
import { authorizedKey, epoch, page, str, type KmsDeps } from './common.js';

const ALIAS = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

function checkName(name: string): void {
  if (!ALIAS.test(name)) throw kmsFail('ValidationException', `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`);
  if (name.startsWith('alias/aws/')) throw kmsFail('InvalidAliasNameException', `Cannot create alias with prefix 'alias/aws/'`);
}

/** Aliases: an account's names for its keys. Changing one needs the action on the alias and on the key(s). */
export function aliasOperations(deps: KmsDeps): AwsOperations {
  const { keys } = deps;
  const aliasResource = (ctx: AwsCallContext, name: string) => keys.aliasArn(ctx.principal.accountId, name);
  return {
    CreateAlias: {
      access: (input, principal) => ({ action: 'kms:CreateAlias', resource: keys.aliasArn(principal.accountId, str(input.AliasName)) }),
      async handle(input, ctx) {
        const name = str(input.AliasName);
        checkName(name);
        const key = await authorizedKey(deps, str(input.TargetKeyId), 'kms:CreateAlias', ctx);
        if (key.state === 'PendingDeletion') throw kmsFail('KMSInvalidStateException', `${key.arn} is pending deletion.`);
        const now = new Date();
        try {
          await keys.store.createAlias({ accountId: ctx.principal.accountId, aliasName: name, targetKeyId: key.keyId, createdAt: now, updatedAt: now }, ctx.signal);
        } catch (err) {
          if (err instanceof Error && 'code' in err && err.code === 'EntityAlreadyExists') {
            throw kmsFail('AlreadyExistsException', `An alias with the name ${aliasResource(ctx, name)} already exists`);
          }
          throw err;
        }
        return {};
      },
    },
    UpdateAlias: {
      access: (input, principal) => ({ action: 'kms:UpdateAlias', resource: keys.aliasArn(principal.accountId, str(input.AliasName)) }),
      async handle(input, ctx) {
        const name = str(input.AliasName);
        checkName(name);
        const current = await keys.store.getAlias(ctx.principal.accountId, name, ctx.signal);
        if (!current) throw kmsFail('NotFoundException', `Alias ${aliasResource(ctx, name)} is not found.`);
        await authorizedKey(deps, current.targetKeyId, 'kms:UpdateAlias', ctx);
        const target = await authorizedKey(deps, str(input.TargetKeyId), 'kms:UpdateAlias', ctx);
        await keys.store.updateAlias(ctx.principal.accountId, name, target.keyId, new Date(), ctx.signal);
        return {};
      },
    },
    DeleteAlias: {
      access: (input, principal) => ({ action: 'kms:DeleteAlias', resource: keys.aliasArn(principal.accountId, str(input.AliasName)) }),
      async handle(input, ctx) {
        const name = str(input.AliasName);
        if (name.startsWith('alias/aws/')) throw kmsFail('InvalidAliasNameException', `Cannot delete alias with prefix 'alias/aws/'`);
        const current = await keys.store.getAlias(ctx.principal.accountId, name, ctx.signal);
        if (!current) throw kmsFail('NotFoundException', `Alias ${aliasResource(ctx, name)} is not found.`);
        await authorizedKey(deps, current.targetKeyId, 'kms:DeleteAlias', ctx);
        await keys.store.deleteAlias(ctx.principal.accountId, name, ctx.signal);
        return {};
      },
    },
    ListAliases: {
      access: () => ({ action: 'kms:ListAliases', resource: '*' }),
      async handle(input, ctx) {
        const account = ctx.principal.accountId;
        let keyId: string | undefined;
        if (typeof input.KeyId === 'string') keyId = (await keys.resolve(account, input.KeyId, ctx.signal)).keyId;
        const all = await keys.store.listAliases(account, keyId, ctx.signal);
        const p = page(all, (a) => a.aliasName, input);
        return {
          Aliases: p.items.map((a) => ({
            AliasName: a.aliasName, AliasArn: keys.aliasArn(account, a.aliasName), TargetKeyId: a.targetKeyId,
            CreationDate: epoch(a.createdAt), LastUpdatedDate: epoch(a.updatedAt),
          })),
          Truncated: p.next !== undefined, ...(p.next ? { NextMarker: p.next } : {}),
        };
      },
    },
  };
}
