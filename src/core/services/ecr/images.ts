import { isDigest, type Digest } from '../../digest.js';
import { fail, isBerthError } from '../../errors.js';
import type { EventBus } from '../../events.js';
import { isValidTag } from '../../names.js';
import type { ImageDetail, ImageId, ManifestRecord, MetaStore, Referrer } from '../../ports/meta-store.js';
import type { ManifestService } from '../manifests.js';
import { imageAlreadyExists, imageNotFound, INVALID_MANIFEST_JSON, layersNotFound, referencedImagesNotFound } from './messages.js';
import { repoAccount, repoName, type RepoKey } from '../../repo-key.js';

/** ECR's `ImageIdentifier`. */
export interface EcrImageId {
  imageDigest?: string;
  imageTag?: string;
}

export interface ImageFailure {
  imageId: EcrImageId;
  failureCode: 'InvalidImageDigest' | 'InvalidImageTag' | 'ImageTagDoesNotMatchDigest' | 'ImageNotFound' | 'MissingDigestAndTag' | 'ImageReferencedByManifestList';
  failureReason: string;
}

type Resolved = { ok: true; digest: Digest; tag?: string; record: ManifestRecord } | { ok: false; failure: ImageFailure };

/** ECR's image operations over the shared manifest store (the same images `/v2` serves). */
export class EcrImageService {
  constructor(
    private readonly meta: MetaStore,
    private readonly manifests: ManifestService,
    private readonly events: EventBus,
  ) {}

  /** Resolves an image id to its manifest, or the ECR failure for it. */
  async resolve(repository: RepoKey, id: EcrImageId, signal: AbortSignal): Promise<Resolved> {
    const failure = (failureCode: ImageFailure['failureCode'], failureReason: string): Resolved => ({ ok: false, failure: { imageId: id, failureCode, failureReason } });
    if (!id.imageDigest && !id.imageTag) return failure('MissingDigestAndTag', 'Invalid request parameters: both tag and digest cannot be null');
    if (id.imageDigest && !isDigest(id.imageDigest)) return failure('InvalidImageDigest', 'Invalid image digest');
    if (id.imageTag && !isValidTag(id.imageTag)) return failure('InvalidImageTag', 'Invalid image tag');
    let digest = id.imageDigest as Digest | undefined;
    if (id.imageTag) {
      const tagged = await this.meta.resolveTag(repository, id.imageTag, signal);
      if (!tagged) return failure('ImageNotFound', 'Requested image not found');
      if (digest && digest !== tagged) return failure('ImageTagDoesNotMatchDigest', 'Invalid request parameters: image tag and digest do not match');
      digest = tagged;
    }
    const record = await this.meta.getManifest(repository, digest!, signal);
    if (!record) return failure('ImageNotFound', 'Requested image not found');
    return { ok: true, digest: digest!, record, ...(id.imageTag ? { tag: id.imageTag } : {}) };
  }

  listImages(repository: RepoKey, filter: 'TAGGED' | 'UNTAGGED' | 'ANY', after: string | undefined, limit: number, signal: AbortSignal): Promise<{ ids: ImageId[]; next?: string }> {
    return this.meta.listImageIds(repository, { filter, limit, ...(after ? { after } : {}) }, signal);
  }

  /** Details of the given images (each must exist: `ImageNotFound` otherwise), or a page of all. */
  async describeImages(repository: RepoKey, ids: EcrImageId[] | undefined, filter: 'TAGGED' | 'UNTAGGED' | 'ANY', after: string | undefined, limit: number, signal: AbortSignal): Promise<{ images: ImageDetail[]; next?: string }> {
    if (!ids) return this.meta.describeImages(repository, { filter, limit, ...(after ? { after } : {}) }, signal);
    const digests: Digest[] = [];
    for (const id of ids) {
      const r = await this.resolve(repository, id, signal);
      if (!r.ok) {
        throw fail('ImageNotFound', imageNotFound(id, repoName(repository), repoAccount(repository)));
      }
      if (!digests.includes(r.digest)) digests.push(r.digest);
    }
    return this.meta.describeImages(repository, { digests, filter: 'ANY', limit: digests.length }, signal);
  }

  /** Manifests of the given images; `acceptedMediaTypes` filters like an Accept header. */
  async batchGet(repository: RepoKey, ids: EcrImageId[], acceptedMediaTypes: string[] | undefined, signal: AbortSignal, principalArn?: string): Promise<{ images: { id: EcrImageId; record: ManifestRecord }[]; failures: (ImageFailure | { imageId: EcrImageId; failureCode: 'UnsupportedImageType' | 'ImageInaccessible'; failureReason: string })[] }> {
    const images: { id: EcrImageId; record: ManifestRecord }[] = [];
    const failures: (ImageFailure | { imageId: EcrImageId; failureCode: 'UnsupportedImageType' | 'ImageInaccessible'; failureReason: string })[] = [];
    for (const id of ids) {
      const r = await this.resolve(repository, id, signal);
      if (!r.ok) {
        failures.push(r.failure);
        continue;
      }
      const { record } = r;
      if (acceptedMediaTypes?.length && !acceptedMediaTypes.includes(record.mediaType)) {
        failures.push({ imageId: id, failureCode: 'UnsupportedImageType', failureReason: `Image is of type ${record.mediaType}, not one of the accepted media types` });
        continue;
      }
      try {
        await this.manifests.assertPullable(repository, r.digest, signal);
      } catch (err) {
        if (!isBerthError(err) || err.code !== 'ImageArchived') throw err;
        failures.push({ imageId: id, failureCode: 'ImageInaccessible', failureReason: err.message });
        continue;
      }
      this.manifests.notePull(repository, r.digest, principalArn);
      images.push({ id: { imageDigest: r.digest, ...(r.tag ? { imageTag: r.tag } : {}) }, record });
    }
    return { images, failures };
  }

  /**
   * ECR `PutImage`: the same validation and tag-immutability rules as a `/v2` manifest PUT, plus ECR's
   * own: the manifest must say its media type (its `mediaType` field or `imageManifestMediaType`).
   * Throws `InvalidParameter` ('Invalid JSON syntax'), `ImageAlreadyExists` when the tag already points at
   * this very manifest, `ImageDigestMismatch`, `LayersNotFound`, `ReferencedImagesNotFound` (missing child
   * manifests of a list/index), `ImageTagAlreadyExists`.
   */
  async put(repository: RepoKey, manifest: string, mediaType: string | undefined, tag: string | undefined, digest: string | undefined, signal: AbortSignal): Promise<ManifestRecord & { tag?: string }> {
    const body = Buffer.from(manifest, 'utf8');
    const json = parseJson(manifest);
    if (!isRecord(json) || (!mediaType && typeof json.mediaType !== 'string')) throw fail('InvalidParameter', INVALID_MANIFEST_JSON);
    if (tag) {
      const current = await this.meta.resolveTag(repository, tag, signal);
      const existing = current ? await this.meta.getManifest(repository, current, signal) : undefined;
      if (existing && Buffer.from(existing.body).equals(body)) {
        throw fail('ImageAlreadyExists', imageAlreadyExists(existing.digest, tag, repoName(repository), repoAccount(repository)));
      }
    }
    let stored;
    try {
      stored = await this.manifests.put(repository, tag ?? digest ?? '', body, mediaType, false, signal, digest);
    } catch (err) {
      if (isBerthError(err) && err.code === 'DigestMismatch') throw fail('ImageDigestMismatch', `Invalid parameter at 'imageDigest' failed to satisfy constraint: 'digest does not match the manifest'`);
      if (isBerthError(err) && err.code === 'ManifestBlobUnknown') {
        const missing = Array.isArray(err.detail?.missing) ? (err.detail.missing as string[]) : [];
        const children = new Set(childDigests(json));
        const images = missing.filter((d) => children.has(d));
        if (images.length > 0) throw fail('ReferencedImagesNotFound', referencedImagesNotFound(images, repoName(repository), repoAccount(repository)));
        throw fail('LayersNotFound', layersNotFound(missing, repoName(repository), repoAccount(repository)));
      }
      throw err;
    }
    return { ...(await this.meta.getManifest(repository, stored.digest, signal))!, ...(tag ? { tag } : {}) };
  }

  /**
   * ECR `BatchDeleteImage`: a digest deletes the image with its tags; a tag removes the tag, and
   * the image too when that was its last tag.
   */
  async batchDelete(repository: RepoKey, ids: EcrImageId[], signal: AbortSignal): Promise<{ deleted: EcrImageId[]; failures: ImageFailure[] }> {
    const deleted: EcrImageId[] = [];
    const failures: ImageFailure[] = [];
    for (const id of ids) {
      const r = await this.resolve(repository, id, signal);
      if (!r.ok) {
        failures.push(r.failure);
        continue;
      }
      try {
        if (r.tag && !id.imageDigest) {
          await this.meta.deleteTag(repository, r.tag, signal);
          const { images } = await this.meta.describeImages(repository, { digests: [r.digest], limit: 1 }, signal);
          this.events.emit({ type: 'tag.deleted', repository, tag: r.tag, at: new Date() });
          if (images[0] && images[0].tags.length === 0) {
            await this.meta.deleteManifest(repository, r.digest, signal);
            this.events.emit({ type: 'manifest.deleted', repository, digest: r.digest, tags: [], at: new Date() });
          }
          deleted.push({ imageDigest: r.digest, imageTag: r.tag });
        } else {
          const removed = await this.meta.deleteManifest(repository, r.digest, signal);
          this.events.emit({ type: 'manifest.deleted', repository, digest: r.digest, tags: removed?.tags ?? [], at: new Date() });
          deleted.push({ imageDigest: r.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) });
        }
      } catch (err) {
        if (!isBerthError(err) || err.code !== 'ManifestReferenced') throw err;
        failures.push({ imageId: id, failureCode: 'ImageReferencedByManifestList', failureReason: 'Requested image is referenced by an image index; delete the index first' });
      }
    }
    return { deleted, failures };
  }

  /** Referrers of a subject digest, optionally only of the given artifact types. */
  async referrers(repository: RepoKey, subject: string, artifactTypes: string[] | undefined, signal: AbortSignal): Promise<Referrer[]> {
    const all = await this.manifests.referrers(repository, subject, undefined, signal);
    return artifactTypes?.length ? all.filter((r) => r.artifactType && artifactTypes.includes(r.artifactType)) : all;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Digests of the manifests a manifest list / image index names (none for an image manifest). */
function childDigests(json: Record<string, unknown>): string[] {
  const list = Array.isArray(json.manifests) ? (json.manifests as unknown[]) : [];
  return list.flatMap((m) => (isRecord(m) && typeof m.digest === 'string' ? [m.digest] : []));
}
