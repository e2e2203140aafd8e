import { denied } from '../../core/access.js';
import { fail } from '../../core/errors.js';
import type { ManagedPolicy as StoredPolicy } from '../../core/identity.js';
import type { IamService } from '../../auth/iam-service.js';
import { MANAGED_POLICIES } from '../../auth/policy/index.js';
import type { AwsCallContext, AwsInput, AwsOperations } from '../aws/context.js';
import { notFoundAs, op, optStr, pageInput, pageOfList, paging, str } from './common.js';
import { builtInPolicyId, policyShape, policyVersionShape } from './shapes.js';

const arnOf = (i: AwsInput) => str(i, 'PolicyArn');
type Described = StoredPolicy & { arn: string; awsManaged: boolean };

/**
 * CreatePolicy, GetPolicy, ListPolicies, DeletePolicy and the policy version operations, for
 * customer managed policies and (read-only) for the AWS managed policies berth has built in.
 */
export function managedPolicyOperations(iam: IamService): AwsOperations {
  /** The policy by ARN, if it is built in or belongs to the caller's account; `NoSuchEntity` otherwise. */
  async function describe(arn: string, ctx: AwsCallContext, counts?: Map<string, number>): Promise<Described> {
    const { accountId } = ctx.principal;
    if (MANAGED_POLICIES.has(arn)) {
      const p = await iam.requirePolicy(arn, ctx.signal);
      const attached = (counts ?? await iam.awsManagedAttachmentCounts(accountId, ctx.signal)).get(arn) ?? 0;
      return { ...p, policyId: builtInPolicyId(arn), attachmentCount: attached };
    }
    if (!arn.startsWith(`arn:aws:iam::${accountId}:policy/`)) throw fail('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`, { arn });
    return iam.requirePolicy(arn, ctx.signal);
  }

  /** A customer managed policy of the caller's account, for writes (built-in ones are not the caller's to change). */
  async function own(arn: string, action: string, ctx: AwsCallContext): Promise<Described> {
    if (MANAGED_POLICIES.has(arn)) denied(ctx.principal, action, arn);
    return describe(arn, ctx);
  }

  return {
    CreatePolicy: op('CreatePolicy', (i, p) => `arn:aws:iam::${p.accountId}:policy${optStr(i, 'Path') ?? '/'}${str(i, 'PolicyName')}`, async (input, ctx) => {
      if (Array.isArray(input.Tags) && input.Tags.length > 0) throw fail('InvalidParameter', 'berth does not support tags on managed policies.');
      const policy = await iam.createPolicy(
        ctx.principal.accountId, str(input, 'PolicyName'), optStr(input, 'Path') ?? '/', str(input, 'PolicyDocument'), optStr(input, 'Description'), ctx.signal,
      );
      return { Policy: policyShape(policy, { description: true }) };
    }),

    GetPolicy: op('GetPolicy', arnOf, async (input, ctx) => {
      const arn = arnOf(input);
      const policy = await notFoundAs(describe(arn, ctx), `Policy ${arn} was not found.`);
      return { Policy: policyShape(policy, { description: true }) };
    }),

    ListPolicies: op('ListPolicies', () => '*', (input, ctx) => listPolicies(iam, input, ctx)),

    DeletePolicy: op('DeletePolicy', arnOf, async (input, ctx) => {
      const p = await own(arnOf(input), 'iam:DeletePolicy', ctx);
      await iam.deletePolicy(p.arn, ctx.signal);
      return {};
    }),

    CreatePolicyVersion: op('CreatePolicyVersion', arnOf, async (input, ctx) => {
      const p = await own(arnOf(input), 'iam:CreatePolicyVersion', ctx);
      const version = await iam.createPolicyVersion(p.arn, str(input, 'PolicyDocument'), input.SetAsDefault === true, ctx.signal);
      return { PolicyVersion: policyVersionShape(version, { document: false }) };
    }),

    GetPolicyVersion: op('GetPolicyVersion', arnOf, async (input, ctx) => {
      const p = await describe(arnOf(input), ctx, new Map());
      const versionId = str(input, 'VersionId');
      const version = p.awsManaged
        ? versionId === p.defaultVersionId ? builtInVersion(p) : undefined
        : await iam.getPolicyVersion(p.arn, versionId, ctx.signal);
      if (!version) throw fail('NoSuchEntity', `Policy ${p.arn} version ${versionId} does not exist or is not attachable.`);
      return { PolicyVersion: policyVersionShape(version, { document: true }) };
    }),

    ListPolicyVersions: op('ListPolicyVersions', arnOf, async (input, ctx) => {
      const p = await describe(arnOf(input), ctx, new Map());
      const versions = p.awsManaged ? [builtInVersion(p)] : await iam.listPolicyVersions(p.arn, ctx.signal);
      const page = pageOfList(versions, input, (v) => v.versionId);
      return { Versions: page.items.map((v) => policyVersionShape(v, { document: false })), ...paging(page) };
    }),

    DeletePolicyVersion: op('DeletePolicyVersion', arnOf, async (input, ctx) => {
      const p = await own(arnOf(input), 'iam:DeletePolicyVersion', ctx);
      await iam.deletePolicyVersion(p.arn, str(input, 'VersionId'), ctx.signal);
      return {};
    }),

    SetDefaultPolicyVersion: op('SetDefaultPolicyVersion', arnOf, async (input, ctx) => {
      const p = await own(arnOf(input), 'iam:SetDefaultPolicyVersion', ctx);
      await iam.setDefaultPolicyVersion(p.arn, str(input, 'VersionId'), ctx.signal);
      return {};
    }),
  };
}

function builtInVersion(p: Described) {
  const document = JSON.stringify(MANAGED_POLICIES.get(p.arn)?.document ?? {});
  return { versionId: p.defaultVersionId, document, isDefaultVersion: true, createdAt: p.createdAt };
}

/**
 * ListPolicies over two sources: the built-in AWS managed policies first (by name), then the
 * account's customer managed ones from the store. The opaque marker says which source to resume
 * in: `aws/<name>` or `local/<name>`.
 */
async function listPolicies(iam: IamService, input: AwsInput, ctx: AwsCallContext): Promise<Record<string, unknown>> {
  const { maxItems, marker } = pageInput(input);
  const scope = optStr(input, 'Scope') ?? 'All';
  const onlyAttached = input.OnlyAttached === true;
  const pathPrefix = optStr(input, 'PathPrefix');
  // berth has no permissions boundaries, so no policy is in use as one.
  if (optStr(input, 'PolicyUsageFilter') === 'PermissionsBoundary') return { Policies: [], IsTruncated: false };
  const [source, after] = marker?.startsWith('aws/') ? ['aws', marker.slice(4)] : marker?.startsWith('local/') ? ['local', marker.slice(6)] : ['aws', undefined];
  const want = maxItems + 1;
  const out: { item: Described; source: 'aws' | 'local' }[] = [];

  if (scope !== 'Local' && source === 'aws') {
    const counts = await iam.awsManagedAttachmentCounts(ctx.principal.accountId, ctx.signal);
    const builtIn = [...MANAGED_POLICIES.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const m of builtIn) {
      if (after !== undefined && m.name <= after) continue;
      if (pathPrefix !== undefined && !'/'.startsWith(pathPrefix)) continue;
      if (onlyAttached && !counts.get(m.arn)) continue;
      if (out.length < want) {
        const p = await iam.requirePolicy(m.arn, ctx.signal);
        out.push({ item: { ...p, policyId: builtInPolicyId(m.arn), attachmentCount: counts.get(m.arn) ?? 0 }, source: 'aws' });
      }
    }
  }
  if (scope !== 'AWS' && out.length < want) {
    const localAfter = source === 'local' ? after : undefined;
    const local = await iam.listPolicies(ctx.principal.accountId, {
      maxItems: want - out.length, ...(localAfter ? { marker: localAfter } : {}), ...(pathPrefix ? { pathPrefix } : {}), ...(onlyAttached ? { onlyAttached } : {}),
    }, ctx.signal);
    for (const p of local) out.push({ item: { ...p, arn: `arn:aws:iam::${p.accountId}:policy${p.path}${p.policyName}`, awsManaged: false }, source: 'local' });
  }
  const items = out.slice(0, maxItems);
  const last = items[items.length - 1];
  const truncated = out.length > maxItems && last !== undefined;
  return {
    Policies: items.map(({ item }) => policyShape(item, { description: false })),
    IsTruncated: truncated,
    ...(truncated ? { Marker: `${last.source}/${last.item.policyName}` } : {}),
  };
}
