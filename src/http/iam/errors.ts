import { fail, isBerthError, type BerthError } from '../../core/errors.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `DeleteConflict` blockers as the identity stores name them → IAM's message. */
const DELETE_CONFLICTS: Record<string, string> = {
  'access keys': 'Cannot delete entity, must delete access keys first.',
  'inline policies': 'Cannot delete entity, must delete policies first.',
  'attached policies': 'Cannot delete entity, must detach all policies first.',
  'group memberships': 'Cannot delete entity, must remove users from group first.',
  members: 'Cannot delete entity, must remove users from group first.',
  attachments: 'Cannot delete a policy attached to entities.',
  'non-default versions': "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
};

/**
 * Re-words an identity-store error the way AWS IAM words it (the stores speak one generic wording
 * for every entity; SDK users and scripts match IAM's). Errors it doesn't recognise pass unchanged.
 */
export function iamWording(err: unknown): unknown {
  if (!isBerthError(err)) return err;
  const message = reword(err);
  return message === undefined || message === err.message ? err : fail(err.code, message, err.detail);
}

function reword(err: BerthError): string | undefined {
  const d = err.detail ?? {};
  switch (err.code) {
    case 'EntityAlreadyExists': {
      const name = str(d.name);
      if (name === undefined) return undefined;
      if (d.entity === 'user') return `User with name ${name} already exists.`;
      if (d.entity === 'group') return `Group with name ${name} already exists.`;
      if (d.entity === 'policy') return `A policy called ${name} already exists. Duplicate names are not allowed.`;
      return undefined;
    }
    case 'DeleteConflict': {
      const blocker = str(d.blocker);
      return blocker === undefined ? undefined : DELETE_CONFLICTS[blocker];
    }
    case 'NoSuchEntity': {
      const arn = str(d.arn);
      if (str(d.accessKeyId) !== undefined) return `The Access Key with id ${str(d.accessKeyId)} cannot be found`;
      if (arn !== undefined && str(d.versionId) !== undefined) return `Policy ${arn} version ${str(d.versionId)} does not exist or is not attachable.`;
      if (arn !== undefined && d.kind !== undefined) return `Policy ${arn} was not found.`;
      if (arn !== undefined) return `Policy ${arn} does not exist or is not attachable.`;
      return undefined;
    }
    case 'LimitExceeded':
      if (str(d.arn) !== undefined) return 'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.';
      return undefined;
    default:
      return undefined;
  }
}
