import { ANONYMOUS, type AccessControl, type Principal } from '../core/access.js';

/**
 * The foundation's access control: everyone is anonymous and everything is allowed, and a push
 * creates its repository. The control plane replaces it with SigV4/token authentication and IAM
 * policy evaluation behind the same interface.
 */
export class AllowAllAccess implements AccessControl {
  readonly createRepositoryOnPush = true;
  async authenticate(): Promise<Principal> {
    return ANONYMOUS;
  }
  async authorize(): Promise<void> {}
  assertAuthenticated(): void {}
}
