import { DEFAULT_REGISTRY_POLICY_SCOPE } from '../../core/services/ecr/registry-policy-scope.js';
import { fail } from '../../core/errors.js';
import type { MetaStore } from '../../core/ports/meta-store.js';
import type { EcrRepositoryService } from '../../core/services/ecr/repositories.js';
import type { RegistryTokens } from '../../auth/registry-tokens.js';
import type { AccountHosts } from '../account-hosts.js';
import type { AwsOperations } from '../aws/context.js';
import { accountOf, epoch, str } from './shapes.js';

/** Account settings ECR knows, with their values when never set, and the values each accepts. */
const ACCOUNT_SETTINGS: Record<string, { initial: string; allowed: string[] }> = {
  BASIC_SCAN_TYPE_VERSION: { initial: 'AWS_NATIVE', allowed: ['AWS_NATIVE', 'CLAIR'] },
  REGISTRY_POLICY_SCOPE: { initial: DEFAULT_REGISTRY_POLICY_SCOPE, allowed: ['V1', 'V2'] },
  BLOB_MOUNTING: { initial: 'ENABLED', allowed: ['ENABLED', 'DISABLED'] },
};

function setting(name: string) {
  const s = ACCOUNT_SETTINGS[name];
  if (!s) throw fail('InvalidParameter', `Invalid parameter at 'name' failed to satisfy constraint: 'must be one of ${Object.keys(ACCOUNT_SETTINGS).join(', ')}'`);
  return s;
}

export function registryOperations(deps: { tokens: RegistryTokens; repos: EcrRepositoryService; meta: MetaStore; hosts: AccountHosts; onPolicyChange: () => void }): AwsOperations {
  return {
    GetAuthorizationToken: {
      access: () => ({ action: 'ecr:GetAuthorizationToken', resource: '*' }),
      async handle(input, ctx) {
        const ids = (input.registryIds as string[] | undefined) ?? [ctx.principal.accountId];
        return {
          // One token per registry asked for (it carries the caller's rights, so it works on any
          // registry the caller may use); each names that registry's own host.
          authorizationData: ids.map((id) => {
            const { token, expiresAt } = deps.tokens.issue(ctx.principal.accountId, ctx.principal.accessKeyId, new Date());
            return { authorizationToken: Buffer.from(`AWS:${token}`).toString('base64'), expiresAt: epoch(expiresAt), proxyEndpoint: deps.hosts.originFor(id, ctx.origin) };
          }),
        };
      },
    },
    DescribeRegistry: {
      access: () => ({ action: 'ecr:DescribeRegistry', resource: '*' }),
      async handle(_input, ctx) {
        return { registryId: ctx.principal.accountId, replicationConfiguration: { rules: [] } };
      },
    },
    PutRegistryPolicy: {
      access: () => ({ action: 'ecr:PutRegistryPolicy', resource: '*' }),
      async handle(input, ctx) {
        await deps.repos.setRegistryPolicy(ctx.principal.accountId, str(input.policyText), ctx.signal);
        deps.onPolicyChange();
        return { registryId: ctx.principal.accountId, policyText: input.policyText };
      },
    },
    GetRegistryPolicy: {
      access: () => ({ action: 'ecr:GetRegistryPolicy', resource: '*' }),
      async handle(_input, ctx) {
        return { registryId: ctx.principal.accountId, policyText: await deps.repos.getRegistryPolicy(ctx.principal.accountId, ctx.signal) };
      },
    },
    DeleteRegistryPolicy: {
      access: () => ({ action: 'ecr:DeleteRegistryPolicy', resource: '*' }),
      async handle(_input, ctx) {
        const policyText = await deps.repos.deleteRegistryPolicy(ctx.principal.accountId, ctx.signal);
        deps.onPolicyChange();
        return { registryId: ctx.principal.accountId, policyText };
      },
    },
    GetAccountSetting: {
      access: () => ({ action: 'ecr:GetAccountSetting', resource: '*' }),
      async handle(input, ctx) {
        const name = str(input.name);
        const s = setting(name);
        return { name, value: (await deps.meta.getAccountSetting(accountOf(input, ctx), name, ctx.signal)) ?? s.initial };
      },
    },
    PutAccountSetting: {
      access: () => ({ action: 'ecr:PutAccountSetting', resource: '*' }),
      async handle(input, ctx) {
        const name = str(input.name);
        const value = str(input.value);
        if (!setting(name).allowed.includes(value)) {
          throw fail('InvalidParameter', `Invalid parameter at 'value' failed to satisfy constraint: '${name} accepts ${setting(name).allowed.join(', ')}'`);
        }
        await deps.meta.putAccountSetting(accountOf(input, ctx), name, value, ctx.signal);
        return { name, value };
      },
    },
  };
}
