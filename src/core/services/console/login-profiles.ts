import { fail } from '../../errors.js';
import type { Principal } from '../../access.js';
import { rootArn, userArn } from '../../identity.js';
import type { IdentityStore } from '../../ports/identity-store.js';
import type { LoginProfile, LoginProfileStore } from '../../ports/login-profiles.js';
import { checkPasswordPolicy, DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';

/** Console sessions act for the principal under this stand-in access key id (no key is involved). */
export const CONSOLE_KEY_ID = 'CONSOLE';

/**
 * Console passwords: IAM login profiles of users (CreateLoginProfile … ChangePassword) and the
 * account root's password (set by `berth account root-password`), and signing in with them.
 */
export class LoginProfileService {
  constructor(private readonly profiles: LoginProfileStore, private readonly identity: IdentityStore) {}

  async #requireUser(accountId: string, userName: string, signal: AbortSignal) {
    const user = await this.identity.getUser(accountId, userName, signal);
    if (!user) throw fail('NoSuchEntity', `The user with name ${userName} cannot be found.`);
    return user;
  }

  /** Throws `NoSuchEntity` (user), `EntityAlreadyExists`, `ValidationError` (password policy). */
  async create(accountId: string, userName: string, password: string, resetRequired: boolean, signal: AbortSignal): Promise<LoginProfile> {
    await this.#requireUser(accountId, userName, signal);
    checkPasswordPolicy(password);
    const profile = { accountId, userName, passwordHash: await hashPassword(password), passwordResetRequired: resetRequired, createdAt: new Date() };
    await this.profiles.create(profile, signal);
    return profile;
  }

  /** Throws `NoSuchEntity` when the user or its profile does not exist. */
  async get(accountId: string, userName: string, signal: AbortSignal): Promise<LoginProfile> {
    await this.#requireUser(accountId, userName, signal);
    const p = await this.profiles.get(accountId, userName, signal);
    if (!p) throw fail('NoSuchEntity', `Login Profile for User ${userName} cannot be found.`);
    return p;
  }

  async update(accountId: string, userName: string, password: string | undefined, resetRequired: boolean | undefined, signal: AbortSignal): Promise<void> {
    const p = await this.get(accountId, userName, signal);
    if (password !== undefined) checkPasswordPolicy(password);
    await this.profiles.put({
      ...p, ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}),
      ...(resetRequired !== undefined ? { passwordResetRequired: resetRequired } : {}),
    }, signal);
  }

  async delete(accountId: string, userName: string, signal: AbortSignal): Promise<void> {
    await this.get(accountId, userName, signal);
    await this.profiles.delete(accountId, userName, signal);
  }

  /** ChangePassword: the caller's own, knowing the old one (`InvalidParameter`-worded refusal otherwise). */
  async change(accountId: string, userName: string, oldPassword: string, newPassword: string, signal: AbortSignal): Promise<void> {
    const p = await this.get(accountId, userName, signal);
    if (!(await verifyPassword(p.passwordHash, oldPassword))) throw fail('InvalidParameter', 'The old password you specified is not correct.');
    checkPasswordPolicy(newPassword);
    await this.profiles.put({ ...p, passwordHash: await hashPassword(newPassword), passwordResetRequired: false }, signal);
  }

  /** Sets the account root's console password (the admin command). */
  async setRootPassword(accountId: string, password: string, signal: AbortSignal): Promise<void> {
    checkPasswordPolicy(password);
    await this.profiles.put({ accountId, userName: '', passwordHash: await hashPassword(password), passwordResetRequired: false, createdAt: new Date() }, signal);
  }

  /** The principal of a live console session, or `undefined` once its user or login profile is gone. */
  async resume(accountId: string, userName: string, signal: AbortSignal): Promise<(Principal & { kind: 'iam' }) | undefined> {
    if (!(await this.profiles.get(accountId, userName, signal))) return undefined;
    if (!userName) return { kind: 'iam', arn: rootArn(accountId), accountId, accessKeyId: CONSOLE_KEY_ID };
    const user = await this.identity.getUser(accountId, userName, signal);
    return user && { kind: 'iam', arn: userArn(user), accountId, userName: user.userName, accessKeyId: CONSOLE_KEY_ID };
  }

  /**
   * The principal a console sign-in acts as: the account root (`userName` empty) or an IAM user.
   * Throws `Unauthenticated` with one message for every failure (unknown account, user, profile
   * or wrong password), after the same scrypt work, so nothing tells which it was.
   */
  async signIn(accountId: string, userName: string, password: string, signal: AbortSignal): Promise<Principal & { kind: 'iam' }> {
    const profile = await this.profiles.get(accountId, userName, signal);
    const user = userName ? await this.identity.getUser(accountId, userName, signal) : undefined;
    const ok = await verifyPassword(profile?.passwordHash ?? DUMMY_HASH, password);
    if (!ok || !profile || (userName && !user)) throw fail('Unauthenticated', 'The account, user name or password is not correct.');
    if (!user) return { kind: 'iam', arn: rootArn(accountId), accountId, accessKeyId: CONSOLE_KEY_ID };
    return { kind: 'iam', arn: userArn(user), accountId, userName: user.userName, accessKeyId: CONSOLE_KEY_ID };
  }
}
