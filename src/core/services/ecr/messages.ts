/**
 * Amazon ECR's wording for the errors a client can meet, in one place. ECR names the registry (account) in
 * most of them — "… in the registry with id '123456789012'", in a few "… in registry with id …" — and
 * clients, scripts and issue trackers match on these sentences. Sources: the messages quoted in public
 * reports against real ECR (aws/aws-cli#8620, aws/aws-sdk#193, boto/boto3#3295 for 'Invalid JSON syntax')
 * and the ECR emulator test-suites that were checked against it (moto's tests/test_ecr).
 */
import type { EcrImageId } from './images.js';

/** PutImage of a manifest ECR cannot read: not JSON, or neither its `mediaType` nor `imageManifestMediaType` says what it is. */
export const INVALID_MANIFEST_JSON = "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'";

export function imageAlreadyExists(digest: string, tag: string, repository: string, registryId: string): string {
  return `Image with digest '${digest}' and tag '${tag}' already exists in the repository with name '${repository}' in registry with id '${registryId}'`;
}

export function imageNotFound(id: EcrImageId, repository: string, registryId: string): string {
  return `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repository}' in the registry with id '${registryId}'`;
}

export function layersNotFound(digests: readonly string[], repository: string, registryId: string): string {
  return `Layers with digests '${JSON.stringify(digests)}' required for pushing image into repository with name '${repository}' in the registry with id '${registryId}' are not found`;
}

/** A manifest list / image index whose child manifests are not in the repository (ECR's `ReferencedImagesNotFoundException`). */
export function referencedImagesNotFound(digests: readonly string[], repository: string, registryId: string): string {
  return `Images with digests '${JSON.stringify(digests)}' referenced by the manifest list are not found in the repository with name '${repository}' in the registry with id '${registryId}'`;
}
