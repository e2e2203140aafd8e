import type { RegistryTokens } from '../../auth/registry-tokens.js';
import type { PublicRepositoryService } from '../../core/services/public/public-repositories.js';
import type { AwsOperations } from '../aws/context.js';
import { epoch, ownRegistry, publicHost, publicRegistryArn, str } from './shapes.js';

/** Registry-wide operations of ECR Public: the login token, the registry and its alias, its display name. */
export function registryOperations(repos: PublicRepositoryService, tokens: RegistryTokens): AwsOperations {
  return {
    GetAuthorizationToken: {
      access: null,
      async handle(_input, ctx) {
        // As on AWS, the login needs both actions (the CLI's get-login-password documents this pair).
        await ctx.authorize('ecr-public:GetAuthorizationToken', { resource: '*' });
        await ctx.authorize('sts:GetServiceBearerToken', { resource: '*' });
        const { token, expiresAt } = tokens.issue(ctx.principal.accountId, ctx.principal.accessKeyId, new Date());
        return { authorizationData: { authorizationToken: Buffer.from(`AWS:${token}`).toString('base64'), expiresAt: epoch(expiresAt) } };
      },
    },
    DescribeRegistries: {
      access: () => ({ action: 'ecr-public:DescribeRegistries', resource: '*' }),
      async handle(input, ctx) {
        const { accountId, alias } = await ownRegistry({}, ctx, repos);
        return {
          registries: [{
            registryId: accountId, registryArn: publicRegistryArn(accountId), registryUri: `${publicHost(ctx)}/${alias}`, verified: false,
            aliases: [{ name: alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
          }],
        };
      },
    },
    GetRegistryCatalogData: {
      access: (_input, principal) => ({ action: 'ecr-public:GetRegistryCatalogData', resource: publicRegistryArn(principal.accountId) }),
      async handle(_input, ctx) {
        return { registryCatalogData: { displayName: await repos.displayName(ctx.principal.accountId, ctx.signal) } };
      },
    },
    PutRegistryCatalogData: {
      access: (_input, principal) => ({ action: 'ecr-public:PutRegistryCatalogData', resource: publicRegistryArn(principal.accountId) }),
      async handle(input, ctx) {
        if (input.displayName !== undefined) await repos.setDisplayName(ctx.principal.accountId, str(input.displayName), ctx.signal);
        return { registryCatalogData: { displayName: await repos.displayName(ctx.principal.accountId, ctx.signal) } };
      },
    },
  };
}
