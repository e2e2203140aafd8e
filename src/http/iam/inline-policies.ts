import { fail } from '../../core/errors.js';
import type { IamService } from '../../auth/iam-service.js';
import type { AwsOperations } from '../aws/context.js';
import { encodeDocument, notFoundAs, op, pageOfList, paging, policyOwner, str, type OwnerKind } from './common.js';

type Kind = OwnerKind;

/**
 * Put/Get/List/Delete{User,Group}Policy: inline policies of a user or a group. One builder for
 * both kinds; they differ only in the owner member (`UserName` / `GroupName`) and its ARN.
 */
export function inlinePolicyOperations(iam: IamService): AwsOperations {
  return { ...forKind(iam, 'User'), ...forKind(iam, 'Group') };
}

function forKind(iam: IamService, kind: Kind): AwsOperations {
  const { member, resource, owner } = policyOwner(iam, kind);
  const missing = (policyName: string) => `The ${kind.toLowerCase()} policy with name ${policyName} cannot be found.`;

  return {
    [`Put${kind}Policy`]: op(`Put${kind}Policy`, resource, async (input, ctx) => {
      const o = await owner(input, ctx.principal.accountId, ctx.signal);
      await iam.putInlinePolicy(o, str(input, 'PolicyName'), str(input, 'PolicyDocument'), ctx.signal);
      return {};
    }),

    [`Get${kind}Policy`]: op(`Get${kind}Policy`, resource, async (input, ctx) => {
      const o = await owner(input, ctx.principal.accountId, ctx.signal);
      const policyName = str(input, 'PolicyName');
      const document = await iam.getInlinePolicy(o, policyName, ctx.signal);
      if (document === undefined) throw fail('NoSuchEntity', missing(policyName));
      return { [member]: o.name, PolicyName: policyName, PolicyDocument: encodeDocument(document) };
    }),

    [`List${kind}Policies`]: op(`List${kind}Policies`, resource, async (input, ctx) => {
      const o = await owner(input, ctx.principal.accountId, ctx.signal);
      const page = pageOfList(await iam.listInlinePolicies(o, ctx.signal), input, (n) => n);
      return { PolicyNames: page.items, ...paging(page) };
    }),

    [`Delete${kind}Policy`]: op(`Delete${kind}Policy`, resource, async (input, ctx) => {
      const o = await owner(input, ctx.principal.accountId, ctx.signal);
      const policyName = str(input, 'PolicyName');
      await notFoundAs(iam.deleteInlinePolicy(o, policyName, ctx.signal), missing(policyName));
      return {};
    }),
  };
}
