import { ecrOperations, type EcrDeps } from '../ecr/index.js';
import { iamOperations } from '../iam/index.js';
import { stsOperations } from '../sts/index.js';
import { kmsOperations, type KmsDeps } from '../kms/index.js';
import type { IamService } from '../../auth/iam-service.js';
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
    // app.ts always registers the lifecycle feature, whose operations are added only when it is given.
    ecr: Object.keys(ecrOperations({ lifecycle: placeholder } as unknown as EcrDeps)),
    iam: Object.keys(iamOperations({ iam: placeholder as IamService })),
    sts: Object.keys(stsOperations({ iam: placeholder as IamService, sessions: placeholder as SessionIssuer })),
    kms: Object.keys(kmsOperations(placeholder as KmsDeps)),
  };
}
