import { userArn } from '../../core/identity.js';
import type { IamService } from '../../auth/iam-service.js';
import type { AwsOperations } from '../aws/context.js';

/**
 * The STS Query API berth implements: GetCallerIdentity (needs no permission, as in AWS). With
 * `iam`, a user's `UserId` (`AIDA…`) and path-qualified ARN are looked up; without it, `UserId`
 * falls back to the access key id and the ARN to the one the key implies.
 */
export function stsOperations(deps: { iam?: IamService } = {}): AwsOperations {
  return {
    GetCallerIdentity: {
      access: null,
      handle: async (_input, ctx) => {
        const p = ctx.principal;
        if (p.userName === undefined) return { UserId: p.accountId, Account: p.accountId, Arn: p.arn };
        const user = deps.iam ? await deps.iam.requireUser(p.accountId, p.userName, ctx.signal) : undefined;
        return {
          UserId: user?.userId ?? p.accessKeyId,
          Account: p.accountId,
          Arn: user ? userArn(user) : p.arn,
        };
      },
    },
  };
}
