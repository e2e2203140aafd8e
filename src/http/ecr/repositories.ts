import { fail } from '../../core/errors.js';
import { validateRepositoryName } from '../../core/names.js';
import type { RepositorySettings } from '../../core/ports/meta-store.js';
import type { EcrRepositoryService } from '../../core/services/ecr/repositories.js';
import type { RepositoryKeys } from '../../core/services/kms/repository-keys.js';
import { isBerthError } from '../../core/errors.js';
import { repoKey, type RepoKey } from '../../core/repo-key.js';
import type { AccountHosts } from '../account-hosts.js';
import type { AwsOperations } from '../aws/context.js';
import { accountOf, repoOf, repositoryArn, repositoryShape, str, token, repoAccess } from './shapes.js';


/** `arn:aws:ecr:region:acct:repository/name` → that repository, for the tagging operations. Throws `InvalidParameter` naming `resourceArn`. */
function repoFromArn(arn: unknown): RepoKey {
  const m = /^arn:aws:ecr:[^:]*:(\d{12}):repository\/(.+)$/.exec(str(arn));
  if (!m?.[1] || !m[2]) throw fail('InvalidParameter', "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'must be the ARN of an ECR repository'");
  return repoKey(m[1], m[2]);
}

function isValidRepositoryName(name: string): boolean {
  try {
    validateRepositoryName(name);
    return true;
  } catch {
    return false;
  }
}

type Tag = { Key: string; Value: string };

export function repositoryOperations(repos: EcrRepositoryService, hosts: AccountHosts, keys?: RepositoryKeys): AwsOperations {
  return {
    CreateRepository: {
      // Judged in the target registry's account: another account's registry needs its consent.
      access: (input, principal) => ({ action: 'ecr:CreateRepository', repository: repoOf(input, principal), ...(input.tags ? { requestTags: input.tags as Tag[] } : {}) }),
      async handle(input, ctx) {
        const settings: Partial<RepositorySettings> = {};
        if (input.imageTagMutability) settings.imageTagMutability = input.imageTagMutability as RepositorySettings['imageTagMutability'];
        if (input.imageTagMutabilityExclusionFilters) settings.imageTagMutabilityExclusionFilters = input.imageTagMutabilityExclusionFilters as RepositorySettings['imageTagMutabilityExclusionFilters'];
        const scanning = input.imageScanningConfiguration as { scanOnPush?: boolean } | undefined;
        if (scanning?.scanOnPush !== undefined) settings.scanOnPush = scanning.scanOnPush;
        if (input.encryptionConfiguration) {
          const config = input.encryptionConfiguration as RepositorySettings['encryption'];
          settings.encryption = keys ? await keys.validate(accountOf(input, ctx), config, ctx.signal) : config;
        }
        if (input.tags) settings.tags = input.tags as Tag[];
        const repo = await repos.create(repoOf(input, ctx.principal), settings, ctx.signal);
        return { repository: repositoryShape(repo, ctx, hosts) };
      },
    },
    DescribeRepositories: {
      access: null,
      async handle(input, ctx) {
        const accountId = accountOf(input, ctx);
        const names = input.repositoryNames as string[] | undefined;
        if (names) {
          const out = [];
          for (const name of names) {
            // Authorized before the look-up, in the named account: an inaccessible name of another
            // account is refused the same way whether it exists or not.
            const key = repoKey(accountId, name);
            await ctx.authorize('ecr:DescribeRepositories', { repository: key });
            out.push(repositoryShape(await repos.get(key, ctx.signal), ctx, hosts));
          }
          return { repositories: out };
        }
        const own = accountId === ctx.principal.accountId;
        if (own) await ctx.authorize('ecr:DescribeRepositories', { resource: repositoryArn(ctx.region, accountId, '*') });
        // In another account's registry, only the repositories whose policies let the caller
        // describe them are listed (and nothing says whether others exist).
        const visible = own ? undefined : async (r: { accountId: string; name: string }) => {
          try {
            await ctx.authorize('ecr:DescribeRepositories', { repository: repoKey(r.accountId, r.name) });
            return true;
          } catch (err) {
            if (isBerthError(err) && err.code === 'AccessDenied') return false;
            throw err;
          }
        };
        const limit = typeof input.maxResults === 'number' ? input.maxResults : 100;
        const last = token.decodeChecked(input.nextToken, isValidRepositoryName);
        const page = await repos.list(accountId, { limit, ...(last ? { last } : {}) }, ctx.signal, visible);
        const more = page.length > limit;
        const items = page.slice(0, limit);
        return {
          repositories: items.map((r) => repositoryShape(r, ctx, hosts)),
          ...(more ? { nextToken: token.encode(items[items.length - 1]!.name) } : {}),
        };
      },
    },
    DeleteRepository: {
      access: repoAccess('ecr:DeleteRepository'),
      async handle(input, ctx) {
        const repo = await repos.delete(repoOf(input, ctx.principal), input.force === true, ctx.signal);
        return { repository: repositoryShape(repo, ctx, hosts) };
      },
    },
    PutImageTagMutability: {
      access: repoAccess('ecr:PutImageTagMutability'),
      async handle(input, ctx) {
        const patch: Partial<RepositorySettings> = {
          imageTagMutability: input.imageTagMutability as RepositorySettings['imageTagMutability'],
          imageTagMutabilityExclusionFilters: (input.imageTagMutabilityExclusionFilters ?? []) as RepositorySettings['imageTagMutabilityExclusionFilters'],
        };
        const repo = await repos.update(repoOf(input, ctx.principal), patch, ctx.signal);
        return {
          registryId: repo.accountId, repositoryName: repo.name, imageTagMutability: repo.settings.imageTagMutability,
          ...(repo.settings.imageTagMutabilityExclusionFilters.length ? { imageTagMutabilityExclusionFilters: repo.settings.imageTagMutabilityExclusionFilters } : {}),
        };
      },
    },
    PutImageScanningConfiguration: {
      access: repoAccess('ecr:PutImageScanningConfiguration'),
      async handle(input, ctx) {
        const scanOnPush = (input.imageScanningConfiguration as { scanOnPush?: boolean }).scanOnPush === true;
        const repo = await repos.update(repoOf(input, ctx.principal), { scanOnPush }, ctx.signal);
        return { registryId: repo.accountId, repositoryName: repo.name, imageScanningConfiguration: { scanOnPush: repo.settings.scanOnPush } };
      },
    },
    TagResource: {
      access: (input) => ({ action: 'ecr:TagResource', repository: repoFromArn(input.resourceArn), requestTags: input.tags as Tag[] }),
      async handle(input, ctx) {
        await repos.tag(repoFromArn(input.resourceArn), input.tags as Tag[], ctx.signal);
        return {};
      },
    },
    UntagResource: {
      access: (input) => ({ action: 'ecr:UntagResource', repository: repoFromArn(input.resourceArn) }),
      async handle(input, ctx) {
        await repos.untag(repoFromArn(input.resourceArn), input.tagKeys as string[], ctx.signal);
        return {};
      },
    },
    ListTagsForResource: {
      access: (input) => ({ action: 'ecr:ListTagsForResource', repository: repoFromArn(input.resourceArn) }),
      async handle(input, ctx) {
        const repo = await repos.get(repoFromArn(input.resourceArn), ctx.signal);
        return { tags: repo.settings.tags };
      },
    },
    SetRepositoryPolicy: {
      access: repoAccess('ecr:SetRepositoryPolicy'),
      async handle(input, ctx) {
        const accountId = accountOf(input, ctx);
        await repos.setPolicy(repoOf(input, ctx.principal), str(input.policyText), ctx.signal);
        return { registryId: accountId, repositoryName: input.repositoryName, policyText: input.policyText };
      },
    },
    GetRepositoryPolicy: {
      access: repoAccess('ecr:GetRepositoryPolicy'),
      async handle(input, ctx) {
        const accountId = accountOf(input, ctx);
        const policyText = await repos.getPolicy(repoOf(input, ctx.principal), ctx.signal);
        return { registryId: accountId, repositoryName: input.repositoryName, policyText };
      },
    },
    DeleteRepositoryPolicy: {
      access: repoAccess('ecr:DeleteRepositoryPolicy'),
      async handle(input, ctx) {
        const accountId = accountOf(input, ctx);
        const policyText = await repos.deletePolicy(repoOf(input, ctx.principal), ctx.signal);
        return { registryId: accountId, repositoryName: input.repositoryName, policyText };
      },
    },
  };
}
