import { Readable } from 'node:stream';
import { isDigest, type Digest } from '../../digest.js';
import { fail, isBerthError } from '../../errors.js';
import type { MetaStore } from '../../ports/meta-store.js';
import type { UploadService } from '../uploads.js';
import { repoName, type RepoKey } from '../../repo-key.js';

/** ECR tells clients to send parts of this size (the last may be smaller). */
export const PART_SIZE = 10 * 1024 * 1024;

export type LayerCheck =
  | { ok: true; layerDigest: string; layerAvailability: 'AVAILABLE' | 'UNAVAILABLE'; layerSize?: number }
  | { ok: false; layerDigest: string; failureCode: 'InvalidLayerDigest' | 'MissingLayerDigest'; failureReason: string };

/** ECR's layer API (the AWS-API way to push blobs), over the same upload sessions `/v2` uses. */
export class EcrLayerService {
  constructor(
    private readonly meta: MetaStore,
    private readonly uploads: UploadService,
  ) {}

  async check(repository: RepoKey, digests: string[], signal: AbortSignal): Promise<LayerCheck[]> {
    const out: LayerCheck[] = [];
    for (const layerDigest of digests) {
      if (!layerDigest) {
        out.push({ ok: false, layerDigest, failureCode: 'MissingLayerDigest', failureReason: 'The layer digest is missing' });
      } else if (!isDigest(layerDigest)) {
        out.push({ ok: false, layerDigest, failureCode: 'InvalidLayerDigest', failureReason: 'Invalid layer digest' });
      } else {
        const link = await this.meta.getBlobLink(repository, layerDigest as Digest, signal);
        out.push(link ? { ok: true, layerDigest, layerAvailability: 'AVAILABLE', layerSize: link.size } : { ok: true, layerDigest, layerAvailability: 'UNAVAILABLE' });
      }
    }
    return out;
  }

  async initiate(repository: RepoKey, signal: AbortSignal): Promise<{ uploadId: string; partSize: number }> {
    const session = await this.uploads.start(repository, false, signal);
    return { uploadId: session.id, partSize: PART_SIZE };
  }

  /** Appends bytes `[first, last]`; throws `InvalidLayerPart` when they do not continue the upload. */
  async uploadPart(repository: RepoKey, uploadId: string, first: number, last: number, bytes: Buffer, signal: AbortSignal): Promise<number> {
    if (last - first + 1 !== bytes.length) {
      throw fail('InvalidLayerPart', `The part is ${bytes.length} bytes, but partFirstByte ${first} and partLastByte ${last} give ${last - first + 1}`);
    }
    try {
      const session = await this.uploads.append(repository, uploadId, Readable.from([bytes]), { range: { start: first, end: last } }, signal);
      return session.size - 1;
    } catch (err) {
      if (isBerthError(err) && err.code === 'RangeNotSatisfiable') {
        throw fail('InvalidLayerPart', `The part must start at byte ${String(err.detail?.size ?? '?')} of upload ${uploadId}`);
      }
      if (isBerthError(err) && err.code === 'UploadNotFound') throw upNotFound(uploadId, repository);
      throw err;
    }
  }

  /** Verifies and commits the upload as `digest`. Throws `EmptyUpload`, `InvalidLayer`, `LayerAlreadyExists`. */
  async complete(repository: RepoKey, uploadId: string, digest: string, signal: AbortSignal): Promise<string> {
    const session = await this.uploads.status(repository, uploadId, signal).catch(() => undefined);
    if (!session) throw upNotFound(uploadId, repository);
    if (session.size === 0) throw fail('EmptyUpload', `The upload with id '${uploadId}' does not contain any layer parts`);
    if (isDigest(digest) && (await this.meta.getBlobLink(repository, digest as Digest, signal))) {
      await this.uploads.cancel(repository, uploadId, signal);
      throw fail('LayerAlreadyExists', `The layer with digest '${digest}' already exists in the repository with name '${repoName(repository)}'`);
    }
    try {
      return (await this.uploads.complete(repository, uploadId, digest, undefined, {}, signal)).digest;
    } catch (err) {
      if (isBerthError(err) && (err.code === 'DigestMismatch' || err.code === 'InvalidDigest')) {
        throw fail('InvalidLayer', `The layer digest calculated for upload id '${uploadId}' does not match the provided digest '${digest}'`);
      }
      throw err;
    }
  }
}

function upNotFound(uploadId: string, repository: RepoKey): Error {
  return fail('UploadNotFound', `The upload with id '${uploadId}' does not exist in the repository with name '${repoName(repository)}'`);
}
