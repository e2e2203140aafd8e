import type { IamService } from '../../auth/iam-service.js';
import { MANAGED_POLICIES } from '../../auth/policy/index.js';
import type { AwsOperations } from '../aws/context.js';
import { op, optStr, pageOfList, paging, policyOwner, str, type OwnerKind } from './common.js';

type Kind = OwnerKind;

/** Attach/Detach/ListAttached{User,Group}Policies: managed policies (customer or AWS) on a user or group. */
export function attachmentOperations(iam: IamService): AwsOperations {
  return { ...forKind(iam, 'User'), ...forKind(iam, 'Group') };
}

/** `arn:aws:iam::<acct|aws>:policy<path><name>` → path and name. */
function splitPolicyArn(arn: string): { path: string; name: string } {
  const rest = arn.slice(arn.indexOf(':policy/') + ':policy'.length);
  const slash = rest.lastIndexOf('/');
  return { path: rest.slice(0, slash + 1), name: MANAGED_POLICIES.get(arn)?.name ?? rest.slice(slash + 1) };
}

function forKind(iam: IamService, kind: Kind): AwsOperations {
  const { resource, owner } = policyOwner(iam, kind);

  return {
    [`Attach${kind}Policy`]: op(`Attach${kind}Policy`, resource, async (input, ctx) => {
      await iam.attachPolicy(await owner(input, ctx.principal.accountId, ctx.signal), str(input, 'PolicyArn'), ctx.signal);
      return {};
    }),

    [`Detach${kind}Policy`]: op(`Detach${kind}Policy`, resource, async (input, ctx) => {
      await iam.detachPolicy(await owner(input, ctx.principal.accountId, ctx.signal), str(input, 'PolicyArn'), ctx.signal);
      return {};
    }),

    [`ListAttached${kind}Policies`]: op(`ListAttached${kind}Policies`, resource, async (input, ctx) => {
      const o = await owner(input, ctx.principal.accountId, ctx.signal);
      const prefix = optStr(input, 'PathPrefix');
      const attached = (await iam.listAttachedPolicies(o, ctx.signal))
        .map((arn) => ({ arn, ...splitPolicyArn(arn) }))
        .filter((p) => prefix === undefined || p.path.startsWith(prefix));
      const page = pageOfList(attached, input, (p) => p.arn);
      return { AttachedPolicies: page.items.map((p) => ({ PolicyName: p.name, PolicyArn: p.arn })), ...paging(page) };
    }),
  };
}
