import { fail, isBerthError } from '../../errors.js';
import type { RepositorySettings } from '../../ports/meta-store.js';
import type { KmsKeys } from './keys.js';

type Encryption = RepositorySettings['encryption'];

/**
 * Validates a repository's `encryptionConfiguration` at CreateRepository, as ECR does: for `KMS`
 * and `KMS_DSSE` the key (key id, key ARN, alias name or alias ARN; the account's `aws/ecr` key
 * when omitted) must exist, be enabled and be a symmetric encryption key. The stored setting
 * names the key by its ARN, so a later alias change never moves a repository to another key.
 */
export class RepositoryKeys {
  constructor(private readonly keys: KmsKeys) {}

  /** The configuration to store. Throws `InvalidParameter` or `KmsError` (ECR's KmsException). */
  async validate(accountId: string, config: { encryptionType?: unknown; kmsKey?: unknown }, signal: AbortSignal): Promise<Encryption> {
    const type = config.encryptionType;
    if (type === 'AES256') {
      if (config.kmsKey !== undefined) throw fail('InvalidParameter', "Invalid parameter at 'encryptionConfiguration': kmsKey can only be specified when encryptionType is KMS or KMS_DSSE");
      return { encryptionType: 'AES256' };
    }
    if (type !== 'KMS' && type !== 'KMS_DSSE') throw fail('InvalidParameter', "Invalid parameter at 'encryptionType': must be one of AES256, KMS, KMS_DSSE");
    const ref = typeof config.kmsKey === 'string' && config.kmsKey !== '' ? config.kmsKey : 'alias/aws/ecr';
    let key;
    try {
      key = await this.keys.resolve(accountId, ref, signal);
    } catch (err) {
      if (isBerthError(err) && err.code !== 'Internal') throw fail('KmsError', `KMS key ${ref} cannot be used for encryption: ${err.message}`, { kmsError: 'NotFoundException' });
      throw err;
    }
    if (key.state !== 'Enabled') throw fail('KmsError', `KMS key ${key.arn} is ${key.state === 'Disabled' ? 'disabled' : 'pending deletion'}`, { kmsError: key.state === 'Disabled' ? 'DisabledException' : 'KMSInvalidStateException' });
    if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.keyUsage !== 'ENCRYPT_DECRYPT') {
      throw fail('KmsError', `KMS key ${key.arn} is not a symmetric encryption key (KeySpec ${key.keySpec}, KeyUsage ${key.keyUsage})`, { kmsError: 'InvalidKeyUsageException' });
    }
    return { encryptionType: type, kmsKey: key.arn };
  }
}
