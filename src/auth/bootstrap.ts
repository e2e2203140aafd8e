import type { IdentityStore } from '../core/ports/identity-store.js';
import type { Keyring } from '../core/ports/keyring.js';
import type { IamService } from './iam-service.js';

export interface RootCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** True when this start created the key (the credentials file is then written, unless `preset`). */
  created: boolean;
  /**
   * True when the key came from `BERTH_ROOT_ACCESS_KEY_ID`/`BERTH_ROOT_SECRET_ACCESS_KEY`: its secret is the
   * operator's and already lives in their environment, so berth writes it nowhere.
   */
  preset: boolean;
}

/**
 * Makes sure the default account exists and has a root access key: the one preset by
 * `BERTH_ROOT_ACCESS_KEY_ID`/`BERTH_ROOT_SECRET_ACCESS_KEY`, else the first active one stored,
 * else a new one. Resolves with the key and its secret (opened from its sealed copy).
 */
export async function ensureRootCredentials(identity: IdentityStore, iam: IamService, keyring: Keyring, accountId: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<RootCredentials> {
  await identity.ensureAccount(accountId, signal);
  const presetId = env.BERTH_ROOT_ACCESS_KEY_ID;
  const presetSecret = env.BERTH_ROOT_SECRET_ACCESS_KEY;
  if ((presetId && !presetSecret) || (!presetId && presetSecret)) {
    throw new Error('set both BERTH_ROOT_ACCESS_KEY_ID and BERTH_ROOT_SECRET_ACCESS_KEY, or neither');
  }
  if (presetId && presetSecret) {
    const existing = await identity.getAccessKey(presetId, signal);
    if (existing) {
      const stored = Buffer.from(keyring.open(existing.secretCiphertext, presetId)).toString('utf8');
      if (stored !== presetSecret || existing.userName !== null || existing.accountId !== accountId) {
        throw new Error('BERTH_ROOT_ACCESS_KEY_ID names an existing key with another secret or owner');
      }
      return { accessKeyId: presetId, secretAccessKey: presetSecret, created: false, preset: true };
    }
    await iam.createAccessKey(accountId, null, signal, { accessKeyId: presetId, secretAccessKey: presetSecret });
    return { accessKeyId: presetId, secretAccessKey: presetSecret, created: true, preset: true };
  }
  const keys = await identity.listAccessKeys(accountId, null, signal);
  const active = keys.find((k) => k.status === 'Active');
  if (active) {
    return { accessKeyId: active.accessKeyId, secretAccessKey: Buffer.from(keyring.open(active.secretCiphertext, active.accessKeyId)).toString('utf8'), created: false, preset: false };
  }
  const made = await iam.createAccessKey(accountId, null, signal);
  return { accessKeyId: made.key.accessKeyId, secretAccessKey: made.secretAccessKey, created: true, preset: false };
}
