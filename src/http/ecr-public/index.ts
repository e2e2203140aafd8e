import type { RegistryTokens } from '../../auth/registry-tokens.js';
import type { EcrImageService } from '../../core/services/ecr/images.js';
import type { EcrLayerService } from '../../core/services/ecr/layers.js';
import type { EcrRepositoryService } from '../../core/services/ecr/repositories.js';
import type { PublicRepositoryService } from '../../core/services/public/public-repositories.js';
import type { AwsOperations } from '../aws/context.js';
import { imageOperations } from './images.js';
import { registryOperations } from './registry.js';
import { repositoryOperations } from './repositories.js';

export interface EcrPublicDeps {
  publicRepos: PublicRepositoryService;
  ecrRepos: EcrRepositoryService;
  images: EcrImageService;
  layers: EcrLayerService;
  tokens: RegistryTokens;
  /** Called after a repository policy changes or a repository goes, so cached decisions are dropped. */
  onPolicyChange: () => void;
}

/** All 23 ECR Public (`SpencerFrontendService`) operations. */
export function ecrPublicOperations(deps: EcrPublicDeps): AwsOperations {
  return {
    ...repositoryOperations(deps.publicRepos, deps.ecrRepos, deps.onPolicyChange),
    ...imageOperations(deps.publicRepos, deps.images, deps.layers),
    ...registryOperations(deps.publicRepos, deps.tokens),
  };
}
