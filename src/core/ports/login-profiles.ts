/**
 * Console passwords: IAM login profiles of users and the root password of each account (kept under
 * the user name `''`). Only scrypt hashes are stored, never passwords.
 *
 * ```
 *  login_profiles   pk(account_id, user_name; '' = root) · password_hash · reset_required · created_at
 * ```
 */
export interface LoginProfileStore {
  /** The profile, or `undefined`. */
  get(accountId: string, userName: string, signal: AbortSignal): Promise<LoginProfile | undefined>;

  /** Creates a profile; throws `EntityAlreadyExists` when one exists. */
  create(profile: LoginProfile, signal: AbortSignal): Promise<void>;

  /** Creates or replaces a profile (root passwords, UpdateLoginProfile, ChangePassword). */
  put(profile: LoginProfile, signal: AbortSignal): Promise<void>;

  /** Removes a profile; resolves `false` when there was none. */
  delete(accountId: string, userName: string, signal: AbortSignal): Promise<boolean>;
}

export interface LoginProfile {
  accountId: string;
  /** IAM user name; `''` for the account root. */
  userName: string;
  /** `scrypt$N$r$p$<salt b64>$<hash b64>`. */
  passwordHash: string;
  passwordResetRequired: boolean;
  createdAt: Date;
}
