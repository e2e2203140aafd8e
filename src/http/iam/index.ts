import type { IamService } from '../../auth/iam-service.js';
import type { AwsOperation, AwsOperations } from '../aws/context.js';
import { accessKeyOperations } from './access-keys.js';
import { iamWording } from './errors.js';
import { groupOperations } from './groups.js';
import { inlinePolicyOperations } from './inline-policies.js';
import { managedPolicyOperations } from './managed-policies.js';
import { attachmentOperations } from './policy-attachments.js';
import { userOperations } from './users.js';
import { loginProfileOperations } from './login-profiles.js';
import type { LoginProfileService } from '../../core/services/console/login-profiles.js';

/**
 * The IAM Query API berth implements (users, access keys, groups, inline and managed policies),
 * keyed by action name. Actions of the model that are missing here get the plugin's "does not
 * implement" error. Identity-store errors are re-worded the way IAM words them.
 */
export function iamOperations(deps: { iam: IamService; loginProfiles?: LoginProfileService }): AwsOperations {
  const all: Record<string, AwsOperation> = {
    ...userOperations(deps.iam),
    ...accessKeyOperations(deps.iam),
    ...groupOperations(deps.iam),
    ...inlinePolicyOperations(deps.iam),
    ...managedPolicyOperations(deps.iam),
    ...attachmentOperations(deps.iam),
    ...(deps.loginProfiles ? loginProfileOperations(deps.loginProfiles) : {}),
  };
  return Object.freeze(Object.fromEntries(Object.entries(all).map(([name, operation]) => [name, reworded(operation)])));
}

function reworded(operation: AwsOperation): AwsOperation {
  return {
    access: operation.access,
    handle: async (input, ctx) => {
      try {
        return await operation.handle(input, ctx);
      } catch (e) {
        throw iamWording(e);
      }
    },
  };
}
