import type { Digest } from '../../core/digest.js';
import { refOf, type LifecycleAction, type LifecycleApi, type StorageClass } from '../../core/lifecycle.js';
import type { MetaStore } from '../../core/ports/meta-store.js';
import type { AwsOperations } from '../aws/context.js';
import { epoch, onRepository, optStr, str, token, type RequireRepository } from './shapes.js';
import { isDigest } from '../../core/digest.js';
import { fail } from '../../core/errors.js';
import { imageNotFound } from '../../core/services/ecr/messages.js';

function resultShape(a: LifecycleAction): Record<string, unknown> {
  return {
    ...(a.tags.length ? { imageTags: a.tags } : {}),
    imageDigest: a.digest,
    imagePushedAt: epoch(a.pushedAt),
    action: { type: a.type, ...(a.targetStorageClass ? { targetStorageClass: a.targetStorageClass } : {}) },
    appliedRulePriority: a.rulePriority,
    storageClass: a.storageClass,
  };
}

/** Lifecycle policy operations (the policy, its preview); each requires the repository. */
export function lifecycleOperations(lifecycle: LifecycleApi, meta: MetaStore, requireRepository: RequireRepository): AwsOperations {
  return {
    PutLifecyclePolicy: onRepository('ecr:PutLifecyclePolicy', requireRepository, async (repo, input, ctx) => {
      const { accountId, name } = refOf(repo);
      await lifecycle.putPolicy({ accountId, name }, str(input.lifecyclePolicyText), ctx.signal);
      return { registryId: accountId, repositoryName: name, lifecyclePolicyText: input.lifecyclePolicyText };
    }),
    GetLifecyclePolicy: onRepository('ecr:GetLifecyclePolicy', requireRepository, async (repo, _input, ctx) => {
      const { accountId, name } = refOf(repo);
      const p = await lifecycle.getPolicy({ accountId, name }, ctx.signal);
      return { registryId: accountId, repositoryName: name, lifecyclePolicyText: p.text, ...(p.lastEvaluatedAt ? { lastEvaluatedAt: epoch(p.lastEvaluatedAt) } : {}) };
    }),
    DeleteLifecyclePolicy: onRepository('ecr:DeleteLifecyclePolicy', requireRepository, async (repo, _input, ctx) => {
      const { accountId, name } = refOf(repo);
      const p = await lifecycle.deletePolicy({ accountId, name }, ctx.signal);
      return { registryId: accountId, repositoryName: name, lifecyclePolicyText: p.text, ...(p.lastEvaluatedAt ? { lastEvaluatedAt: epoch(p.lastEvaluatedAt) } : {}) };
    }),
    StartLifecyclePolicyPreview: onRepository('ecr:StartLifecyclePolicyPreview', requireRepository, async (repo, input, ctx) => {
      const { accountId, name } = refOf(repo);
      const r = await lifecycle.startPreview({ accountId, name }, optStr(input.lifecyclePolicyText), ctx.signal);
      return { registryId: accountId, repositoryName: name, lifecyclePolicyText: r.text, status: r.status };
    }),
    UpdateImageStorageClass: onRepository('ecr:UpdateImageStorageClass', requireRepository, async (repo, input, ctx) => {
      const { accountId, name } = refOf(repo);
      const id = input.imageId as { imageDigest?: string; imageTag?: string };
      const digest = id.imageDigest ?? (id.imageTag ? await meta.resolveTag(repo, id.imageTag, ctx.signal) : undefined);
      if (!digest || !isDigest(digest) || (id.imageTag && id.imageDigest && (await meta.resolveTag(repo, id.imageTag, ctx.signal)) !== id.imageDigest)) {
        throw fail('ImageNotFound', imageNotFound(id, name, accountId));
      }
      const imageStatus = await lifecycle.updateStorageClass({ accountId, name }, digest as Digest, str(input.targetStorageClass) as StorageClass, ctx.signal);
      return { registryId: accountId, repositoryName: name, imageId: { imageDigest: digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) }, imageStatus };
    }),
    RegisterPullTimeUpdateExclusion: {
      access: () => ({ action: 'ecr:RegisterPullTimeUpdateExclusion', resource: '*' }),
      async handle(input, ctx) {
        const createdAt = await lifecycle.registerPullTimeExclusion(ctx.principal.accountId, str(input.principalArn), ctx.signal);
        return { principalArn: input.principalArn, createdAt: epoch(createdAt) };
      },
    },
    DeregisterPullTimeUpdateExclusion: {
      access: () => ({ action: 'ecr:DeregisterPullTimeUpdateExclusion', resource: '*' }),
      async handle(input, ctx) {
        await lifecycle.deregisterPullTimeExclusion(ctx.principal.accountId, str(input.principalArn), ctx.signal);
        return { principalArn: input.principalArn };
      },
    },
    ListPullTimeUpdateExclusions: {
      access: () => ({ action: 'ecr:ListPullTimeUpdateExclusions', resource: '*' }),
      async handle(input, ctx) {
        const after = token.decodeChecked(input.nextToken, (c) => c.startsWith('arn:'));
        const page = await lifecycle.listPullTimeExclusions(ctx.principal.accountId, { limit: typeof input.maxResults === 'number' ? input.maxResults : 100, ...(after ? { after } : {}) }, ctx.signal);
        return { pullTimeUpdateExclusions: page.arns, ...(page.next ? { nextToken: token.encode(page.next) } : {}) };
      },
    },
    GetLifecyclePolicyPreview: onRepository('ecr:GetLifecyclePolicyPreview', requireRepository, async (repo, input, ctx) => {
      const { accountId, name } = refOf(repo);
      let digests: Digest[] | undefined;
      const ids = input.imageIds as { imageDigest?: string; imageTag?: string }[] | undefined;
      if (ids) {
        digests = [];
        for (const id of ids) {
          const d = id.imageDigest ?? (id.imageTag ? await meta.resolveTag(repo, id.imageTag, ctx.signal) : undefined);
          if (d) digests.push(d as Digest);
        }
      }
      const after = token.decodeChecked(input.nextToken, (c) => /^\d{1,9}$/.test(c));
      const tagStatus = (input.filter as { tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY' } | undefined)?.tagStatus;
      const page = await lifecycle.getPreview({ accountId, name }, {
        limit: typeof input.maxResults === 'number' ? input.maxResults : 100,
        ...(digests ? { digests } : {}), ...(tagStatus ? { tagStatus } : {}), ...(after ? { after: Number(after) } : {}),
      }, ctx.signal);
      return {
        registryId: accountId, repositoryName: name, lifecyclePolicyText: page.text, status: page.status,
        previewResults: page.results.map(resultShape),
        ...(page.next !== undefined ? { nextToken: token.encode(String(page.next)) } : {}),
        ...(page.summary ? {
          summary: {
            expiringImageTotalCount: page.summary.expiring,
            ...(page.summary.transitioning ? { transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE', imageTotalCount: page.summary.transitioning }] } : {}),
          },
        } : {}),
      };
    }),
  };
}
