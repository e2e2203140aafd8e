import type { PolicyOwner } from '../../core/identity.js';
import type { IamService } from '../../auth/iam-service.js';
import { MANAGED_POLICIES } from '../../auth/policy/index.js';
import type { AwsInput, AwsOperations, IamPrincipal } from '../aws/context.js';
import { groupResource, op, optStr, pageOfList, paging, str, userResource } from './common.js';

type Kind = 'User' | 'Group';

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
  const member = `${kind}Name`;
  const resource = (i: AwsInput, p: IamPrincipal) =>
    (kind === 'User' ? userResource : groupResource)(p.accountId, str(i, member));
  const owner = async (i: AwsInput, accountId: string, signal: AbortSignal): Promise<PolicyOwner> => {
    const name = kind === 'User'
      ? (await iam.requireUser(accountId, str(i, member), signal)).userName
      : (await iam.requireGroup(accountId, str(i, member), signal)).groupName;
    return { kind: kind === 'User' ? 'user' : 'group', accountId, name };
  };

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
