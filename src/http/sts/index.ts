import { fail } from '../../core/errors.js';
import { userArn } from '../../core/identity.js';
import type { IamService } from '../../auth/iam-service.js';
import { sessionLifetimeMs, type SessionIssuer } from '../../auth/session-credentials.js';
import type { AwsOperations } from '../aws/context.js';

/**
 * The STS Query API berth implements: GetSessionToken (with `sessions`) and GetCallerIdentity
 * (neither needs a permission, as in AWS). With
 * `iam`, a user's `UserId` (`AIDA…`) and path-qualified ARN are looked up; without it, `UserId`
 * falls back to the access key id and the ARN to the one the key implies.
 */
export function stsOperations(deps: { iam?: IamService; sessions?: SessionIssuer } = {}): AwsOperations {
  const sessions = deps.sessions;
  return {
    ...(sessions ? {
      GetSessionToken: {
        // Needs no permission in AWS either; a session's rights are its parent's.
        access: null,
        handle: async (input, ctx) => {
          if (ctx.principal.session) throw fail('AccessDenied', 'Cannot call GetSessionToken with session credentials');
          const lifetime = sessionLifetimeMs(typeof input.DurationSeconds === 'number' ? input.DurationSeconds : undefined, ctx.principal.userName === undefined);
          const c = sessions.issue(ctx.principal.accessKeyId, lifetime, new Date());
          return { Credentials: { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: c.expiresAt } };
        },
      },
    } : {}),
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
