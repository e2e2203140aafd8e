import { isDigest } from '../../core/digest.js';
import type { EcrImageId, EcrImageService } from '../../core/services/ecr/images.js';
import { refOf, type LifecycleApi } from '../../core/lifecycle.js';
import { repoAccount, repoName } from '../../core/repo-key.js';
import type { AwsOperations } from '../aws/context.js';
import { imageDetailShape, onRepository, optStr, referrerShape, str, token, type RequireRepository } from './shapes.js';

type TagStatus = 'TAGGED' | 'UNTAGGED' | 'ANY';
const tagStatus = (filter: unknown): TagStatus => ((filter as { tagStatus?: TagStatus } | undefined)?.tagStatus ?? 'ANY');

/** Image operations; each requires the repository to exist (`RepositoryNotFoundException`). */
export function imageOperations(images: EcrImageService, requireRepository: RequireRepository, archive?: Pick<LifecycleApi, 'archiveStates'>): AwsOperations {
  return {
    ListImages: onRepository('ecr:ListImages', requireRepository, async (repo, input, ctx) => {
      const limit = typeof input.maxResults === 'number' ? input.maxResults : 100;
      const page = await images.listImages(repo, tagStatus(input.filter), token.decode(input.nextToken), limit, ctx.signal);
      return {
        imageIds: page.ids.map((i) => ({ imageDigest: i.digest, ...(i.tag ? { imageTag: i.tag } : {}) })),
        ...(page.next ? { nextToken: token.encode(page.next) } : {}),
      };
    }),
    DescribeImages: onRepository('ecr:DescribeImages', requireRepository, async (repo, input, ctx) => {
      const limit = typeof input.maxResults === 'number' ? input.maxResults : 100;
      const page = await images.describeImages(repo, input.imageIds as EcrImageId[] | undefined, tagStatus(input.filter), token.decode(input.nextToken), limit, ctx.signal);
      const states = await archive?.archiveStates(refOf(repo), ctx.signal);
      return {
        imageDetails: page.images.map((d) => imageDetailShape(d, repo, states?.get(d.digest))),
        ...(page.next ? { nextToken: token.encode(page.next) } : {}),
      };
    }),
    BatchGetImage: onRepository('ecr:BatchGetImage', requireRepository, async (repo, input, ctx) => {
      const r = await images.batchGet(repo, input.imageIds as EcrImageId[], input.acceptedMediaTypes as string[] | undefined, ctx.signal, ctx.principal.arn);
      return {
        images: r.images.map(({ id, record }) => ({
          registryId: repoAccount(repo), repositoryName: repoName(repo), imageId: id,
          imageManifest: Buffer.from(record.body).toString('utf8'), imageManifestMediaType: record.mediaType,
        })),
        failures: r.failures,
      };
    }),
    PutImage: onRepository('ecr:PutImage', requireRepository, async (repo, input, ctx) => {
      const record = await images.put(repo, str(input.imageManifest), optStr(input.imageManifestMediaType), optStr(input.imageTag), optStr(input.imageDigest), ctx.signal);
      return {
        image: {
          registryId: repoAccount(repo), repositoryName: repoName(repo),
          imageId: { imageDigest: record.digest, ...(record.tag ? { imageTag: record.tag } : {}) },
          imageManifest: Buffer.from(record.body).toString('utf8'), imageManifestMediaType: record.mediaType,
        },
      };
    }),
    BatchDeleteImage: onRepository('ecr:BatchDeleteImage', requireRepository, async (repo, input, ctx) => {
      const r = await images.batchDelete(repo, input.imageIds as EcrImageId[], ctx.signal);
      return { imageIds: r.deleted, failures: r.failures };
    }),
    ListImageReferrers: onRepository('ecr:ListImageReferrers', requireRepository, async (repo, input, ctx) => {
      const subject = (input.subjectId as { imageDigest: string }).imageDigest;
      const types = (input.filter as { artifactTypes?: string[] } | undefined)?.artifactTypes;
      const all = await images.referrers(repo, subject, types, ctx.signal);
      const limit = typeof input.maxResults === 'number' ? input.maxResults : 50;
      const after = token.decodeChecked(input.nextToken, isDigest);
      const start = after ? all.findIndex((r) => r.digest === after) + 1 : 0;
      const page = all.slice(start, start + limit);
      const more = start + limit < all.length;
      return {
        referrers: page.map(referrerShape),
        ...(more ? { nextToken: token.encode(page[page.length - 1]!.digest) } : {}),
      };
    }),
  };
}
