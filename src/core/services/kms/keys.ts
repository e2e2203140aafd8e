import { randomBytes, randomUUID } from 'node:crypto';
import type { KeyStore, KeyVersion, KmsKey } from '../../ports/key-store.js';
import { kmsFail } from './errors.js';
import { generateSigningPair, SIGNING_ALGORITHMS } from './material.js';
import type { MaterialSealer } from '../../ports/material-sealer.js';

const DAY = 86_400_000;
const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/;

/** The key policy KMS gives a key created without one: the account (and through it IAM) may do everything. */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17', Id: 'key-default-1',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' }],
  }, null, 2);
}

/** The context key material is sealed under: binds material to its key and version. */
export const materialContext = (keyId: string, version: number): string => `kms-material:${keyId}:${version}`;

/**
 * Key records and their material: creation, look-up by id / ARN / alias (name or ARN), lazy
 * automatic rotation and lazy destruction after the deletion window. No authorization here.
 */
export class KmsKeys {
  constructor(
    readonly store: KeyStore,
    private readonly sealer: MaterialSealer,
    readonly region: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  keyArn(accountId: string, keyId: string): string {
    return `arn:aws:kms:${this.region}:${accountId}:key/${keyId}`;
  }

  aliasArn(accountId: string, aliasName: string): string {
    return `arn:aws:kms:${this.region}:${accountId}:${aliasName}`;
  }

  /** Creates a key with fresh material. `spec` SYMMETRIC_DEFAULT, ECC_NIST_P256 or RSA_2048. */
  async create(accountId: string, opts: { spec: string; usage: KmsKey['keyUsage']; description: string; policy?: string; tags: KmsKey['tags']; manager?: KmsKey['manager'] }, signal: AbortSignal): Promise<KmsKey> {
    const keyId = randomUUID();
    const now = this.now();
    const key: KmsKey = {
      keyId, accountId, arn: this.keyArn(accountId, keyId), description: opts.description, keySpec: opts.spec, keyUsage: opts.usage,
      state: 'Enabled', manager: opts.manager ?? 'CUSTOMER', createdAt: now, rotationEnabled: opts.manager === 'AWS',
      rotationPeriodInDays: 365, policy: opts.policy ?? defaultKeyPolicy(accountId), tags: opts.tags, currentVersion: 1,
    };
    await this.store.createKey(key, await this.#material(keyId, 1, opts.spec, 'INITIAL'), signal);
    return key;
  }

  async #material(keyId: string, version: number, spec: string, origin: KeyVersion['origin']): Promise<KeyVersion> {
    const context = materialContext(keyId, version);
    if (spec === 'SYMMETRIC_DEFAULT') {
      return { keyId, version, origin, createdAt: this.now(), sealed: await this.sealer.seal(randomBytes(32), context) };
    }
    const { privateDer, publicDer } = generateSigningPair(spec);
    return { keyId, version, origin, createdAt: this.now(), sealed: await this.sealer.seal(privateDer, context), publicKey: publicDer };
  }

  /** Unseals one version's material (symmetric key or PKCS#8 DER). */
  async material(keyId: string, version: number, signal: AbortSignal): Promise<{ secret: Buffer; version: KeyVersion }> {
    const v = await this.store.getVersion(keyId, version, signal);
    if (!v) throw kmsFail('InvalidCiphertextException', 'The ciphertext refers to key material that does not exist');
    return { secret: Buffer.from(await this.sealer.open(v.sealed, materialContext(keyId, version))), version: v };
  }

  /** Adds a version (rotation) and makes it current. */
  async rotate(key: KmsKey, origin: 'AUTOMATIC' | 'ON_DEMAND', signal: AbortSignal): Promise<void> {
    await this.store.addVersion(await this.#material(key.keyId, key.currentVersion + 1, key.keySpec, origin), signal);
  }

  /**
   * Resolves a key id, key ARN, alias name or alias ARN as seen by `callerAccount`. Keys whose
   * deletion window has passed are destroyed here and reported missing. Throws `NotFoundException`.
   */
  async resolve(callerAccount: string, ref: string, signal: AbortSignal): Promise<KmsKey> {
    let account = callerAccount;
    let keyId: string | undefined;
    const keyArn = KEY_ARN.exec(ref);
    const aliasArn = ALIAS_ARN.exec(ref);
    if (keyArn) {
      if (keyArn[1] !== this.region) throw kmsFail('NotFoundException', `Invalid arn ${ref}`);
      account = keyArn[2]!;
      keyId = keyArn[3]!;
    } else if (aliasArn || ref.startsWith('alias/')) {
      if (aliasArn) account = aliasArn[2]!;
      const name = aliasArn ? aliasArn[3]! : ref;
      let alias = await this.store.getAlias(account, name, signal);
      if (!alias && name === 'alias/aws/ecr') alias = await this.#managed(account, signal);
      if (!alias) throw kmsFail('NotFoundException', `Alias ${this.aliasArn(account, name)} is not found.`);
      keyId = alias.targetKeyId;
    } else if (KEY_ID.test(ref)) {
      keyId = ref;
    } else {
      throw kmsFail('NotFoundException', `Invalid keyId '${ref}'`);
    }
    const key = await this.store.getKey(keyId, signal);
    if (!key || key.accountId !== account) throw kmsFail('NotFoundException', `Key '${this.keyArn(account, keyId)}' does not exist`);
    if (key.state === 'PendingDeletion' && key.deletionDate && key.deletionDate <= this.now()) {
      await this.store.deleteKey(key.keyId, signal);
      throw kmsFail('NotFoundException', `Key '${key.arn}' does not exist`);
    }
    return this.#maybeRotate(key, signal);
  }

  /** Automatic rotation happens lazily, when a key is next looked up after its period. */
  async #maybeRotate(key: KmsKey, signal: AbortSignal): Promise<KmsKey> {
    if (!key.rotationEnabled || key.keySpec !== 'SYMMETRIC_DEFAULT') return key;
    const versions = await this.store.listVersions(key.keyId, signal);
    const last = versions[versions.length - 1];
    if (!last || this.now().getTime() - last.createdAt.getTime() < key.rotationPeriodInDays * DAY) return key;
    await this.rotate(key, 'AUTOMATIC', signal);
    return (await this.store.getKey(key.keyId, signal)) ?? key;
  }

  /** Next automatic rotation date of a key with rotation on. */
  async nextRotation(key: KmsKey, signal: AbortSignal): Promise<Date | undefined> {
    if (!key.rotationEnabled) return undefined;
    const versions = await this.store.listVersions(key.keyId, signal);
    const last = versions[versions.length - 1]!;
    return new Date(last.createdAt.getTime() + key.rotationPeriodInDays * DAY);
  }

  /** The AWS managed `aws/ecr` key of an account, created on first use (as AWS does). */
  async #managed(accountId: string, signal: AbortSignal) {
    const key = await this.create(accountId, {
      spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', description: 'Default key that protects my ECR data when no other key is defined',
      tags: [], manager: 'AWS',
    }, signal);
    const now = this.now();
    try {
      await this.store.createAlias({ accountId, aliasName: 'alias/aws/ecr', targetKeyId: key.keyId, createdAt: now, updatedAt: now }, signal);
    } catch {
      // Another request created it a moment ago: use that one; the spare key is never referenced.
      await this.store.deleteKey(key.keyId, signal);
    }
    return this.store.getAlias(accountId, 'alias/aws/ecr', signal);
  }

  /** Throws unless the key can encrypt/decrypt now (KMS's wording, naming the key). */
  requireUsable(key: KmsKey, usage: KmsKey['keyUsage']): void {
    if (key.state === 'Disabled') throw kmsFail('DisabledException', `${key.arn} is disabled.`);
    if (key.state === 'PendingDeletion') throw kmsFail('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    if (key.keyUsage !== usage) {
      throw kmsFail('InvalidKeyUsageException', `You cannot use ${key.arn} for ${usage === 'ENCRYPT_DECRYPT' ? 'encryption' : 'signing'}: its KeyUsage is ${key.keyUsage}.`);
    }
  }

  /** `KeyMetadata` as the model shapes it. */
  metadata(key: KmsKey): Record<string, unknown> {
    const symmetric = key.keySpec === 'SYMMETRIC_DEFAULT';
    return {
      AWSAccountId: key.accountId, KeyId: key.keyId, Arn: key.arn, CreationDate: key.createdAt.getTime() / 1000,
      Enabled: key.state === 'Enabled', Description: key.description, KeyUsage: key.keyUsage, KeyState: key.state,
      ...(key.deletionDate ? { DeletionDate: key.deletionDate.getTime() / 1000, PendingDeletionWindowInDays: key.pendingWindowInDays } : {}),
      Origin: 'AWS_KMS', KeyManager: key.manager, CustomerMasterKeySpec: key.keySpec, KeySpec: key.keySpec,
      ...(symmetric ? { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } : { SigningAlgorithms: SIGNING_ALGORITHMS[key.keySpec] ?? [] }),
      MultiRegion: false,
    };
  }
}
