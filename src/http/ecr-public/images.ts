import type { EcrImageId, EcrImageService } from '../../core/services/ecr/images.js';
import type { EcrLayerService } from '../../core/services/ecr/layers.js';
import { PublicRepositoryService } from '../../core/services/public/public-repositories.js';
import type { ImageDetail } from '../../core/ports/meta-store.js';
import type { AwsOperations } from '../aws/context.js';
import { optStr, token } from '../ecr/shapes.js';
import { epoch, onPublicRepository, str } from './shapes.js';

const keyOf = PublicRepositoryService.keyOf;

const referenced = (d: ImageDetail) => ({
  imageDigest: d.digest, imageSizeInBytes: d.imageSize, imagePushedAt: epoch(d.pushedAt), imageManifestMediaType: d.mediaType,
  ...(d.artifactType ? { artifactMediaType: d.artifactType } : {}),
});

/** Image and layer operations of ECR Public, on the same services as ECR's (the stored name is `<alias>/<name>`). */
export function imageOperations(repos: PublicRepositoryService, images: EcrImageService, layers: EcrLayerService): AwsOperations {
  return {
    DescribeImages: onPublicRepository('ecr-public:DescribeImages', repos, async ({ record }, input, ctx) => {
      const limit = typeof input.maxResults === 'number' ? input.maxResults : 100;
      const page = await images.describeImages(keyOf(record), input.imageIds as EcrImageId[] | undefined, 'ANY', token.decode(input.nextToken), limit, ctx.signal);
      return {
        imageDetails: page.images.map((d) => ({
          registryId: record.accountId, repositoryName: record.shortName, ...referenced(d), ...(d.tags.length ? { imageTags: d.tags } : {}),
        })),
        ...(page.next ? { nextToken: token.encode(page.next) } : {}),
      };
    }),
    DescribeImageTags: onPublicRepository('ecr-public:DescribeImageTags', repos, async ({ record }, input, ctx) => {
      const limit = typeof input.maxResults === 'number' ? input.maxResults : 100;
      const page = await images.describeImages(keyOf(record), undefined, 'TAGGED', token.decode(input.nextToken), limit, ctx.signal);
      return {
        // berth keeps no separate tag time: a tag's time is its image's push time.
        imageTagDetails: page.images.flatMap((d) => d.tags.map((imageTag) => ({ imageTag, createdAt: epoch(d.pushedAt), imageDetail: referenced(d) }))),
        ...(page.next ? { nextToken: token.encode(page.next) } : {}),
      };
    }),
    BatchDeleteImage: onPublicRepository('ecr-public:BatchDeleteImage', repos, async ({ record }, input, ctx) => {
      const r = await images.batchDelete(keyOf(record), input.imageIds as EcrImageId[], ctx.signal);
      return { imageIds: r.deleted, failures: r.failures };
    }),
    PutImage: onPublicRepository('ecr-public:PutImage', repos, async ({ record }, input, ctx) => {
      const put = await images.put(keyOf(record), str(input.imageManifest), optStr(input.imageManifestMediaType), optStr(input.imageTag), optStr(input.imageDigest), ctx.signal);
      return {
        image: {
          registryId: record.accountId, repositoryName: record.shortName,
          imageId: { imageDigest: put.digest, ...(put.tag ? { imageTag: put.tag } : {}) },
          imageManifest: Buffer.from(put.body).toString('utf8'), imageManifestMediaType: put.mediaType,
        },
      };
    }),
    BatchCheckLayerAvailability: onPublicRepository('ecr-public:BatchCheckLayerAvailability', repos, async ({ record }, input, ctx) => {
      const checks = await layers.check(keyOf(record), input.layerDigests as string[], ctx.signal);
      return {
        layers: checks.flatMap((c) => (c.ok ? [{ layerDigest: c.layerDigest, layerAvailability: c.layerAvailability, ...(c.layerSize !== undefined ? { layerSize: c.layerSize } : {}) }] : [])),
        failures: checks.flatMap((c) => (c.ok ? [] : [{ layerDigest: c.layerDigest, failureCode: c.failureCode, failureReason: c.failureReason }])),
      };
    }),
    InitiateLayerUpload: onPublicRepository('ecr-public:InitiateLayerUpload', repos, async ({ record }, _input, ctx) => layers.initiate(keyOf(record), ctx.signal)),
    UploadLayerPart: onPublicRepository('ecr-public:UploadLayerPart', repos, async ({ record }, input, ctx) => {
      const bytes = Buffer.from(str(input.layerPartBlob), 'base64');
      const lastByteReceived = await layers.uploadPart(keyOf(record), str(input.uploadId), Number(input.partFirstByte), Number(input.partLastByte), bytes, ctx.signal);
      return { registryId: record.accountId, repositoryName: record.shortName, uploadId: input.uploadId, lastByteReceived };
    }),
    CompleteLayerUpload: onPublicRepository('ecr-public:CompleteLayerUpload', repos, async ({ record }, input, ctx) => {
      const digests = input.layerDigests as string[];
      const layerDigest = await layers.complete(keyOf(record), str(input.uploadId), digests[0] ?? '', ctx.signal);
      return { registryId: record.accountId, repositoryName: record.shortName, uploadId: input.uploadId, layerDigest };
    }),
  };
}
