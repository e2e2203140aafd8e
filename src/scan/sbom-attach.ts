import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOf } from '../core/manifest.js';
import { EMPTY_JSON_DIGEST, MediaType } from '../core/media-types.js';
import { blobsFor } from '../core/ports/blob-encryption.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import type { ScanKey } from '../core/ports/scan-store.js';
import { repoKey } from '../core/repo-key.js';
import type { Inventory } from '../core/scanning.js';
import type { ManifestService } from '../core/services/manifests.js';
import { CYCLONEDX_MEDIA_TYPE } from './sbom-media-type.js';

/**
 * Attaches an image's CycloneDX SBOM to it as an OCI 1.1 referrer: the document as a blob of the
 * repository, then an artifact manifest (`artifactType` CycloneDX, empty config, `subject` = the
 * image) stored through the same manifest service a push uses, so `GET /v2/<name>/referrers/
 * <digest>` and ECR `ListImageReferrers` list it. Blob first, manifest second: a crash between
 * leaves an orphan blob for garbage collection, never a manifest without content.
 */
export function sbomAttacher(meta: MetaStore, blobs: BlobStore, manifests: ManifestService) {
  return async (key: ScanKey, inventory: Inventory, signal: AbortSignal): Promise<void> => {
    const repo = repoKey(key.accountId, key.repository);
    const [record, subject] = await Promise.all([meta.getRepository(repo, signal), meta.getManifest(repo, key.digest, signal)]);
    if (!record || !subject) return;
    // Loaded with the first SBOM (packageurl-js is ~5 % of a server start otherwise, issue 12).
    const { buildSbom } = await import('./sbom.js');
    const doc = Buffer.from(JSON.stringify(buildSbom(key.repository, key.digest, inventory)));
    const digest = digestOf(doc);
    // Committed as the repository's own push would be: its data key wrapped by the repository's
    // key (a KMS repository's SBOM is not left under the service key alone).
    const store = blobsFor(blobs, record);
    const upload = `sbom-${randomUUID()}`;
    await store.appendUpload(upload, 0, Readable.from([doc]), signal);
    await store.commitUpload(upload, digest, signal);
    await meta.linkBlob(repo, digest, doc.length, signal);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType: CYCLONEDX_MEDIA_TYPE,
      config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: [{ mediaType: CYCLONEDX_MEDIA_TYPE, digest, size: doc.length, annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' } }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { 'dev.berth.sbom.format': 'CycloneDX 1.5' },
    }));
    await manifests.put(repo, digestOf(manifest), manifest, MediaType.OciManifest, false, signal);
  };
}
