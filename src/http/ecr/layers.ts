import type { EcrLayerService } from '../../core/services/ecr/layers.js';
import type { UrlSigner } from '../../auth/url-signer.js';
import type { BlobService } from '../../core/services/blobs.js';
import { repoAccount, repoName } from '../../core/repo-key.js';
import type { AccountHosts } from '../account-hosts.js';
import type { AwsOperations } from '../aws/context.js';
import { onRepository, str, type RequireRepository } from './shapes.js';


/** How long a GetDownloadUrlForLayer URL works. */
const DOWNLOAD_URL_TTL_MS = 60 * 60 * 1000;

export function layerOperations(layers: EcrLayerService, blobs: BlobService, urls: UrlSigner, hosts: AccountHosts, requireRepository: RequireRepository): AwsOperations {
  return {
    BatchCheckLayerAvailability: onRepository('ecr:BatchCheckLayerAvailability', requireRepository, async (repo, input, ctx) => {
      const checks = await layers.check(repo, input.layerDigests as string[], ctx.signal);
      return {
        layers: checks.flatMap((c) => (c.ok ? [{ layerDigest: c.layerDigest, layerAvailability: c.layerAvailability, ...(c.layerSize !== undefined ? { layerSize: c.layerSize } : {}) }] : [])),
        failures: checks.flatMap((c) => (c.ok ? [] : [{ layerDigest: c.layerDigest, failureCode: c.failureCode, failureReason: c.failureReason }])),
      };
    }),
    InitiateLayerUpload: onRepository('ecr:InitiateLayerUpload', requireRepository, async (repo, input, ctx) => {
      return layers.initiate(repo, ctx.signal);
    }),
    UploadLayerPart: onRepository('ecr:UploadLayerPart', requireRepository, async (repo, input, ctx) => {
      const bytes = Buffer.from(str(input.layerPartBlob), 'base64');
      const lastByteReceived = await layers.uploadPart(repo, str(input.uploadId), Number(input.partFirstByte), Number(input.partLastByte), bytes, ctx.signal);
      return { registryId: repoAccount(repo), repositoryName: repoName(repo), uploadId: input.uploadId, lastByteReceived };
    }),
    CompleteLayerUpload: onRepository('ecr:CompleteLayerUpload', requireRepository, async (repo, input, ctx) => {
      const digests = input.layerDigests as string[];
      const layerDigest = await layers.complete(repo, str(input.uploadId), digests[0] ?? '', ctx.signal);
      return { registryId: repoAccount(repo), repositoryName: repoName(repo), uploadId: input.uploadId, layerDigest };
    }),
    GetDownloadUrlForLayer: onRepository('ecr:GetDownloadUrlForLayer', requireRepository, async (repo, input, ctx) => {
      const { digest } = await blobs.stat(repo, str(input.layerDigest), ctx.signal).catch((err: unknown) => {
        if (err instanceof Error && 'code' in err && err.code === 'BlobNotFound') {
          throw Object.assign(err, { awsType: 'LayersNotFoundException' });
        }
        throw err;
      });
      // Served by the account's own host; the signature covers the account and the path.
      const path = `/v2/${repoName(repo)}/blobs/${digest}`;
      const query = urls.sign(repoAccount(repo), path, new Date(Date.now() + DOWNLOAD_URL_TTL_MS));
      return { downloadUrl: `${hosts.originFor(repoAccount(repo), ctx.origin)}${path}?${query}`, layerDigest: digest };
    }),
  };
}
