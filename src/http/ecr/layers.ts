import type { EcrLayerService } from '../../core/services/ecr/layers.js';
import type { UrlSigner } from '../../auth/url-signer.js';
import type { BlobService } from '../../core/services/blobs.js';
import type { AwsOperations } from '../aws/context.js';
import { accountOf, str, repoAccess } from './shapes.js';


/** How long a GetDownloadUrlForLayer URL works. */
const DOWNLOAD_URL_TTL_MS = 60 * 60 * 1000;

export function layerOperations(layers: EcrLayerService, blobs: BlobService, urls: UrlSigner, requireRepository: (name: string, accountId: string, signal: AbortSignal) => Promise<unknown>): AwsOperations {
  return {
    BatchCheckLayerAvailability: {
      access: repoAccess('ecr:BatchCheckLayerAvailability'),
      async handle(input, ctx) {
        const name = str(input.repositoryName);
        await requireRepository(name, accountOf(input, ctx), ctx.signal);
        const checks = await layers.check(name, input.layerDigests as string[], ctx.signal);
        return {
          layers: checks.flatMap((c) => (c.ok ? [{ layerDigest: c.layerDigest, layerAvailability: c.layerAvailability, ...(c.layerSize !== undefined ? { layerSize: c.layerSize } : {}) }] : [])),
          failures: checks.flatMap((c) => (c.ok ? [] : [{ layerDigest: c.layerDigest, failureCode: c.failureCode, failureReason: c.failureReason }])),
        };
      },
    },
    InitiateLayerUpload: {
      access: repoAccess('ecr:InitiateLayerUpload'),
      async handle(input, ctx) {
        const name = str(input.repositoryName);
        await requireRepository(name, accountOf(input, ctx), ctx.signal);
        return layers.initiate(name, ctx.signal);
      },
    },
    UploadLayerPart: {
      access: repoAccess('ecr:UploadLayerPart'),
      async handle(input, ctx) {
        const name = str(input.repositoryName);
        const accountId = accountOf(input, ctx);
        await requireRepository(name, accountId, ctx.signal);
        const bytes = Buffer.from(str(input.layerPartBlob), 'base64');
        const lastByteReceived = await layers.uploadPart(name, str(input.uploadId), Number(input.partFirstByte), Number(input.partLastByte), bytes, ctx.signal);
        return { registryId: accountId, repositoryName: name, uploadId: input.uploadId, lastByteReceived };
      },
    },
    CompleteLayerUpload: {
      access: repoAccess('ecr:CompleteLayerUpload'),
      async handle(input, ctx) {
        const name = str(input.repositoryName);
        const accountId = accountOf(input, ctx);
        await requireRepository(name, accountId, ctx.signal);
        const digests = input.layerDigests as string[];
        const layerDigest = await layers.complete(name, str(input.uploadId), digests[0] ?? '', ctx.signal);
        return { registryId: accountId, repositoryName: name, uploadId: input.uploadId, layerDigest };
      },
    },
    GetDownloadUrlForLayer: {
      access: repoAccess('ecr:GetDownloadUrlForLayer'),
      async handle(input, ctx) {
        const name = str(input.repositoryName);
        await requireRepository(name, accountOf(input, ctx), ctx.signal);
        const { digest } = await blobs.stat(name, str(input.layerDigest), ctx.signal).catch((err: unknown) => {
          if (err instanceof Error && 'code' in err && err.code === 'BlobNotFound') {
            throw Object.assign(err, { awsType: 'LayersNotFoundException' });
          }
          throw err;
        });
        const path = `/v2/${name}/blobs/${digest}`;
        return { downloadUrl: `${ctx.origin}${path}?${urls.sign(path, new Date(Date.now() + DOWNLOAD_URL_TTL_MS))}`, layerDigest: digest };
      },
    },
  };
}
