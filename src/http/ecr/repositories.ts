import { fail } from '../../core/errors.js';
import { validateRepositoryName } from '../../core/names.js';
import type { RepositorySettings } from '../../core/ports/meta-store.js';
import type { EcrRepositoryService } from '../../core/services/ecr/repositories.js';
import type { RepositoryKeys } from '../../core/services/kms/repository-keys.js';
import type { AwsOperations } from '../aws/context.js';
import { accountOf, repositoryArn, repositoryShape, str, token, repoAccess } from './shapes.js';


/** `arn:aws:ecr:region:acct:repository/name` → name, for the tagging operations. Throws `InvalidParameter` naming `resourceArn`. */
function nameFromArn(arn: unknown): string {
  const m = /^arn:aws:ecr:[^:]*:\d{12}:repository\/(.+)$/.exec(str(arn));
  if (!m?.[1]) throw fail('InvalidParameter', "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'must be the ARN of an ECR repository'");
  return m[1];
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

export function repositoryOperations(repos: EcrRepositoryService, keys?: RepositoryKeys): AwsOperations {
  return {
    CreateRepository: {
      access: (input) => ({ action: 'ecr:CreateRepository', repository: str(input.repositoryName), ...(input.tags ? { requestTags: input.tags as Tag[] } : {}) }),
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
        const repo = await repos.create(accountOf(input, ctx), str(input.repositoryName), settings, ctx.signal);
        return { repository: repositoryShape(repo, ctx) };
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
            await ctx.authorize('ecr:DescribeRepositories', { repository: name });
            out.push(repositoryShape(await repos.get(name, accountId, ctx.signal), ctx));
          }
          return { repositories: out };
        }
        await ctx.authorize('ecr:DescribeRepositories', { resource: repositoryArn(ctx.region, accountId, '*') });
        const limit = typeof input.maxResults === 'number' ? input.maxResults : 100;
        const last = token.decodeChecked(input.nextToken, isValidRepositoryName);
        const page = await repos.list(accountId, { limit, ...(last ? { last } : {}) }, ctx.signal);
        const more = page.length > limit;
        const items = page.slice(0, limit);
        return {
          repositories: items.map((r) => repositoryShape(r, ctx)),
          ...(more ? { nextToken: token.encode(items[items.length - 1]!.name) } : {}),
        };
      },
    },
    DeleteRepository: {
      access: repoAccess('ecr:DeleteRepository'),
      async handle(input, ctx) {
        const repo = await repos.delete(str(input.repositoryName), accountOf(input, ctx), input.force === true, ctx.signal);
        return { repository: repositoryShape(repo, ctx) };
      },
    },
    PutImageTagMutability: {
      access: repoAccess('ecr:PutImageTagMutability'),
      async handle(input, ctx) {
        const patch: Partial<RepositorySettings> = {
          imageTagMutability: input.imageTagMutability as RepositorySettings['imageTagMutability'],
          imageTagMutabilityExclusionFilters: (input.imageTagMutabilityExclusionFilters ?? []) as RepositorySettings['imageTagMutabilityExclusionFilters'],
        };
        const repo = await repos.update(str(input.repositoryName), accountOf(input, ctx), patch, ctx.signal);
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
        const repo = await repos.update(str(input.repositoryName), accountOf(input, ctx), { scanOnPush }, ctx.signal);
        return { registryId: repo.accountId, repositoryName: repo.name, imageScanningConfiguration: { scanOnPush: repo.settings.scanOnPush } };
      },
    },
    TagResource: {
      access: (input) => ({ action: 'ecr:TagResource', repository: nameFromArn(input.resourceArn), requestTags: input.tags as Tag[] }),
      async handle(input, ctx) {
        await repos.tag(nameFromArn(input.resourceArn), ctx.principal.accountId, input.tags as Tag[], ctx.signal);
        return {};
      },
    },
    UntagResource: {
      access: (input) => ({ action: 'ecr:UntagResource', repository: nameFromArn(input.resourceArn) }),
      async handle(input, ctx) {
        await repos.untag(nameFromArn(input.resourceArn), ctx.principal.accountId, input.tagKeys as string[], ctx.signal);
        return {};
      },
    },
    ListTagsForResource: {
      access: (input) => ({ action: 'ecr:ListTagsForResource', repository: nameFromArn(input.resourceArn) }),
      async handle(input, ctx) {
        const repo = await repos.get(nameFromArn(input.resourceArn), ctx.principal.accountId, ctx.signal);
        return { tags: repo.settings.tags };
      },
    },
    SetRepositoryPolicy: {
      access: repoAccess('ecr:SetRepositoryPolicy'),
      async handle(input, ctx) {
        const accountId = accountOf(input, ctx);
        await repos.setPolicy(str(input.repositoryName), accountId, str(input.policyText), ctx.signal);
        return { registryId: accountId, repositoryName: input.repositoryName, policyText: input.policyText };
      },
    },
    GetRepositoryPolicy: {
      access: repoAccess('ecr:GetRepositoryPolicy'),
      async handle(input, ctx) {
        const accountId = accountOf(input, ctx);
        const policyText = await repos.getPolicy(str(input.repositoryName), accountId, ctx.signal);
        return { registryId: accountId, repositoryName: input.repositoryName, policyText };
      },
    },
    DeleteRepositoryPolicy: {
      access: repoAccess('ecr:DeleteRepositoryPolicy'),
      async handle(input, ctx) {
        const accountId = accountOf(input, ctx);
        const policyText = await repos.deletePolicy(str(input.repositoryName), accountId, ctx.signal);
        return { registryId: accountId, repositoryName: input.repositoryName, policyText };
      },
    },
  };
}
