import { ecrOperations, type EcrDeps } from '../ecr/index.js';
import { ecrPublicOperations, type EcrPublicDeps } from '../ecr-public/index.js';
import { iamOperations } from '../iam/index.js';
import { stsOperations } from '../sts/index.js';
import { kmsOperations, type KmsDeps } from '../kms/index.js';
import type { ImageScanning } from '../../core/ports/image-scanning.js';
import type { IamService } from '../../auth/iam-service.js';
import type { LoginProfileService } from '../../core/services/console/login-profiles.js';
import type { SessionIssuer } from '../../auth/session-credentials.js';
import type { ServiceName } from './model/types.js';

/**
 * The operation names each AWS service registers, for the generated coverage table
 * (docs/api-coverage.md). Built by calling the same operation builders app.ts registers with
 * placeholder dependencies: the builders only capture them, and no handler runs here.
 */
export function implementedOperations(): Partial<Record<ServiceName, string[]>> {
  const placeholder = {} as never;
  return {
    // The lifecycle feature and the scan module are always registered by app.ts; their operations are added only when given.
    ecr: Object.keys(ecrOperations({ ...(placeholder as EcrDeps), lifecycle: placeholder, scanning: placeholder as ImageScanning } as unknown as EcrDeps)),
    'ecr-public': Object.keys(ecrPublicOperations(placeholder as EcrPublicDeps)),
    iam: Object.keys(iamOperations({ iam: placeholder as IamService, loginProfiles: placeholder as LoginProfileService })),
    sts: Object.keys(stsOperations({ iam: placeholder as IamService, sessions: placeholder as SessionIssuer })),
    kms: Object.keys(kmsOperations(placeholder as KmsDeps)),
  };
}
