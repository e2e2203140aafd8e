import { fail } from '../../core/errors.js';
import type { EcrRepositoryService } from '../../core/services/ecr/repositories.js';
import { repoKey } from '../../core/repo-key.js';
import { PublicRepositoryService } from '../../core/services/public/public-repositories.js';
import type { AwsOperations } from '../aws/context.js';
import { token } from '../ecr/shapes.js';
import {
  catalogInput, catalogShape, onPublicRepository, ownRegistry, parsePublicArn, publicRepositoryArn, repositoryShape, str,
} from './shapes.js';

type Tag = { Key: string; Value: string };

/** Repository administration of ECR Public: create/describe/delete, catalog data, policies, tags. */
export function repositoryOperations(repos: PublicRepositoryService, ecrRepos: EcrRepositoryService, onPolicyChange: () => void): AwsOperations {
  /** The stored name behind a tagging ARN, after checking it is the caller's registry. */
  const fromArn = async (arn: unknown, ctx: Parameters<AwsOperations[string]['handle']>[1]) => {
    const { accountId, shortName } = parsePublicArn(arn);
    const { alias } = await ownRegistry({ registryId: accountId }, ctx, repos);
    return { accountId, shortName, name: repoKey(accountId, `${alias}/${shortName}`) };
  };
  return {
    CreateRepository: {
      access: null,
      async handle(input, ctx) {
        const { accountId } = await ownRegistry(input, ctx, repos);
        const shortName = str(input.repositoryName);
        const tags = (input.tags ?? []) as Tag[];
        await ctx.authorize('ecr-public:CreateRepository', { resource: publicRepositoryArn(accountId, shortName), ...(input.tags ? { requestTags: tags } : {}) });
        if (tags.length > 50) throw fail('TooManyTags', 'a repository can have at most 50 tags');
        const created = await repos.create(accountId, shortName, catalogInput(input.catalogData), tags, ctx.signal);
        return { repository: repositoryShape(created, ctx), catalogData: catalogShape(created.record, ctx) };
      },
    },
    DescribeRepositories: {
      access: null,
      async handle(input, ctx) {
        const { accountId, alias } = await ownRegistry(input, ctx, repos);
        const names = input.repositoryNames as string[] | undefined;
        if (names) {
          const out = [];
          for (const shortName of names) {
            await ctx.authorize('ecr-public:DescribeRepositories', { repository: repoKey(accountId, `${alias}/${shortName}`) });
            out.push(repositoryShape(await repos.get(accountId, shortName, ctx.signal), ctx));
          }
          return { repositories: out };
        }
        await ctx.authorize('ecr-public:DescribeRepositories', { resource: publicRepositoryArn(accountId, '*') });
        const limit = typeof input.maxResults === 'number' ? input.maxResults : 100;
        const last = token.decodeChecked(input.nextToken, (c) => c.startsWith(`${alias}/`));
        const page = await repos.list({ accountId, limit: limit + 1, ...(last ? { last } : {}) }, ctx.signal);
        const items = page.slice(0, limit);
        return {
          repositories: items.map((p) => repositoryShape(p, ctx)),
          ...(page.length > limit ? { nextToken: token.encode(items[items.length - 1]!.record.name) } : {}),
        };
      },
    },
    DeleteRepository: onPublicRepository('ecr-public:DeleteRepository', repos, async (p, input, ctx) => {
      const deleted = await repos.delete(p.record.accountId, p.record.shortName, input.force === true, ctx.signal);
      onPolicyChange();
      return { repository: repositoryShape(deleted, ctx) };
    }),
    GetRepositoryCatalogData: onPublicRepository('ecr-public:GetRepositoryCatalogData', repos, async (p, _input, ctx) => ({
      catalogData: catalogShape(p.record, ctx),
    })),
    PutRepositoryCatalogData: onPublicRepository('ecr-public:PutRepositoryCatalogData', repos, async (p, input, ctx) => {
      const record = await repos.putCatalog(p.record.accountId, p.record.shortName, catalogInput(input.catalogData), ctx.signal);
      return { catalogData: catalogShape(record, ctx) };
    }),
    SetRepositoryPolicy: onPublicRepository('ecr-public:SetRepositoryPolicy', repos, async (p, input, ctx) => {
      await ecrRepos.setPolicy(PublicRepositoryService.keyOf(p.record), str(input.policyText), ctx.signal);
      onPolicyChange();
      return { registryId: p.record.accountId, repositoryName: p.record.shortName, policyText: input.policyText };
    }),
    GetRepositoryPolicy: onPublicRepository('ecr-public:GetRepositoryPolicy', repos, async (p, _input, ctx) => {
      const policyText = await ecrRepos.getPolicy(PublicRepositoryService.keyOf(p.record), ctx.signal).catch(renameNotFound(p.record.shortName, p.record.accountId));
      return { registryId: p.record.accountId, repositoryName: p.record.shortName, policyText };
    }),
    DeleteRepositoryPolicy: onPublicRepository('ecr-public:DeleteRepositoryPolicy', repos, async (p, _input, ctx) => {
      const policyText = await ecrRepos.deletePolicy(PublicRepositoryService.keyOf(p.record), ctx.signal).catch(renameNotFound(p.record.shortName, p.record.accountId));
      onPolicyChange();
      return { registryId: p.record.accountId, repositoryName: p.record.shortName, policyText };
    }),
    TagResource: {
      access: null,
      async handle(input, ctx) {
        const r = await fromArn(input.resourceArn, ctx);
        await ctx.authorize('ecr-public:TagResource', { repository: r.name, requestTags: input.tags as Tag[] });
        await repos.get(r.accountId, r.shortName, ctx.signal);
        await ecrRepos.tag(r.name, input.tags as Tag[], ctx.signal);
        return {};
      },
    },
    UntagResource: {
      access: null,
      async handle(input, ctx) {
        const r = await fromArn(input.resourceArn, ctx);
        await ctx.authorize('ecr-public:UntagResource', { repository: r.name });
        await repos.get(r.accountId, r.shortName, ctx.signal);
        await ecrRepos.untag(r.name, input.tagKeys as string[], ctx.signal);
        return {};
      },
    },
    ListTagsForResource: {
      access: null,
      async handle(input, ctx) {
        const r = await fromArn(input.resourceArn, ctx);
        await ctx.authorize('ecr-public:ListTagsForResource', { repository: r.name });
        const { repository } = await repos.get(r.accountId, r.shortName, ctx.signal);
        return { tags: repository.settings.tags };
      },
    },
  };
}

/** ECR's policy-not-found message names the stored name; ECR Public's names the short one. */
function renameNotFound(shortName: string, accountId: string) {
  return (err: unknown): never => {
    if (err instanceof Error && 'code' in err && err.code === 'RepositoryPolicyNotFound') {
      err.message = `Repository policy does not exist for the repository with name '${shortName}' in the registry with id '${accountId}'`;
    }
    throw err;
  };
}
