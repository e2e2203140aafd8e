import type { UrlSigner } from '../../auth/url-signer.js';
import type { RegistryTokens } from '../../auth/registry-tokens.js';
import type { LifecycleApi } from '../../core/lifecycle.js';
import type { ImageScanning } from '../../core/ports/image-scanning.js';
import type { MetaStore } from '../../core/ports/meta-store.js';
import type { BlobService } from '../../core/services/blobs.js';
import type { EcrImageService } from '../../core/services/ecr/images.js';
import type { EcrLayerService } from '../../core/services/ecr/layers.js';
import type { EcrRepositoryService } from '../../core/services/ecr/repositories.js';
import type { RepositoryKeys } from '../../core/services/kms/repository-keys.js';
import type { RepoKey } from '../../core/repo-key.js';
import type { AccountHosts } from '../account-hosts.js';
import type { AwsOperation, AwsOperations } from '../aws/context.js';
import { imageOperations } from './images.js';
import { layerOperations } from './layers.js';
import { lifecycleOperations } from './lifecycle.js';
import { registryOperations } from './registry.js';
import { repositoryOperations } from './repositories.js';
import { scanningOperations, withScanStatus } from './scanning.js';

export interface EcrDeps {
  repos: EcrRepositoryService;
  images: EcrImageService;
  layers: EcrLayerService;
  blobs: BlobService;
  meta: MetaStore;
  tokens: RegistryTokens;
  urls: UrlSigner;
  /** Names each account's registry host (repository URIs, download URLs, proxy endpoints). */
  hosts: AccountHosts;
  /** Called after a repository or registry policy changes, so cached decisions are dropped at once. */
  onPolicyChange: () => void;
  /** Validates and resolves `encryptionConfiguration` keys at CreateRepository. */
  repositoryKeys?: RepositoryKeys;
  /** Lifecycle policies and previews (the lifecycle feature); absent: those operations answer "not implemented". */
  lifecycle?: LifecycleApi;
  /** The scan module's use cases; without it the scanning operations answer "not implemented". */
  scanning?: ImageScanning;
}

/** Every ECR operation berth implements; the rest of the model answers "not implemented yet". */
export function ecrOperations(deps: EcrDeps): AwsOperations {
  const requireRepository = (repository: RepoKey, signal: AbortSignal) => deps.repos.get(repository, signal);
  const repositories = repositoryOperations(deps.repos, deps.hosts, deps.repositoryKeys);
  for (const op of ['SetRepositoryPolicy', 'DeleteRepositoryPolicy', 'DeleteRepository'] as const) {
    const inner = repositories[op]!;
    (repositories as Record<string, AwsOperation>)[op] = { ...inner, handle: async (input, ctx) => {
      const out = await inner.handle(input, ctx);
      deps.onPolicyChange();
      return out;
    } };
  }
  const images = imageOperations(deps.images, requireRepository, deps.lifecycle);
  return {
    ...repositories,
    ...images,
    ...layerOperations(deps.layers, deps.blobs, deps.urls, deps.hosts, requireRepository),
    ...registryOperations(deps),
    ...(deps.lifecycle ? lifecycleOperations(deps.lifecycle, deps.meta, requireRepository) : {}),
    ...(deps.scanning ? {
      ...scanningOperations(deps.scanning, deps.images, deps.repos, requireRepository),
      DescribeImages: withScanStatus(images.DescribeImages!, deps.scanning),
    } : {}),
  };
}
