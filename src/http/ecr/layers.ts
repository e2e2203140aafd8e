import type { EcrLayerService } from '../../core/services/ecr/layers.js';
import type { UrlSigner } from '../../auth/url-signer.js';
import type { BlobService } from '../../core/services/blobs.js';
import type { AwsOperations } from '../aws/context.js';
import { onRepository, str, type RequireRepository } from './shapes.js';


/** How long a GetDownloadUrlForLayer URL works. */
const DOWNLOAD_URL_TTL_MS = 60 * 60 * 1000;

export function layerOperations(layers: EcrLayerService, blobs: BlobService, urls: UrlSigner, requireRepository: RequireRepository): AwsOperations {
  return {
    BatchCheckLayerAvailability: onRepository('ecr:BatchCheckLayerAvailability', requireRepository, async (name, accountId, input, ctx) => {
      const checks = await layers.check(name, input.layerDigests as string[], ctx.signal);
      return {
        layers: checks.flatMap((c) => (c.ok ? [{ layerDigest: c.layerDigest, layerAvailability: c.layerAvailability, ...(c.layerSize !== undefined ? { layerSize: c.layerSize } : {}) }] : [])),
        failures: checks.flatMap((c) => (c.ok ? [] : [{ layerDigest: c.layerDigest, failureCode: c.failureCode, failureReason: c.failureReason }])),
      };
    }),
    InitiateLayerUpload: onRepository('ecr:InitiateLayerUpload', requireRepository, async (name, accountId, input, ctx) => {
      return layers.initiate(name, ctx.signal);
    }),
    UploadLayerPart: onRepository('ecr:UploadLayerPart', requireRepository, async (name, accountId, input, ctx) => {
      const bytes = Buffer.from(str(input.layerPartBlob), 'base64');
      const lastByteReceived = await layers.uploadPart(name, str(input.uploadId), Number(input.partFirstByte), Number(input.partLastByte), bytes, ctx.signal);
      return { registryId: accountId, repositoryName: name, uploadId: input.uploadId, lastByteReceived };
    }),
    CompleteLayerUpload: onRepository('ecr:CompleteLayerUpload', requireRepository, async (name, accountId, input, ctx) => {
      const digests = input.layerDigests as string[];
      const layerDigest = await layers.complete(name, str(input.uploadId), digests[0] ?? '', ctx.signal);
      return { registryId: accountId, repositoryName: name, uploadId: input.uploadId, layerDigest };
    }),
    GetDownloadUrlForLayer: onRepository('ecr:GetDownloadUrlForLayer', requireRepository, async (name, accountId, input, ctx) => {
      const { digest } = await blobs.stat(name, str(input.layerDigest), ctx.signal).catch((err: unknown) => {
        if (err instanceof Error && 'code' in err && err.code === 'BlobNotFound') {
          throw Object.assign(err, { awsType: 'LayersNotFoundException' });
        }
        throw err;
      });
      const path = `/v2/${name}/blobs/${digest}`;
      return { downloadUrl: `${ctx.origin}${path}?${urls.sign(path, new Date(Date.now() + DOWNLOAD_URL_TTL_MS))}`, layerDigest: digest };
    }),
  };
}
