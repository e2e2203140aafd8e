import { parsePolicy } from '../../auth/policy/index.js';
import type { KmsKey } from '../../core/ports/key-store.js';
import { kmsFail } from '../../core/services/kms/errors.js';
import type { AwsOperations } from '../aws/context.js';
import { epoch, onKey, page, requireCustomerManaged, str, type KmsDeps } from './common.js';

const SUPPORTED_SPECS: Record<string, KmsKey['keyUsage']> = { SYMMETRIC_DEFAULT: 'ENCRYPT_DECRYPT', ECC_NIST_P256: 'SIGN_VERIFY', RSA_2048: 'SIGN_VERIFY' };
const DAY = 86_400_000;

function checkPolicy(text: string): void {
  const r = parsePolicy(text, 'resource');
  if ('errors' in r) throw kmsFail('MalformedPolicyDocumentException', `The new key policy will not allow you to update the key policy in the future: ${r.errors.join('; ')}`);
}

function tagsOf(v: unknown): KmsKey['tags'] {
  const tags = (Array.isArray(v) ? v : []) as KmsKey['tags'];
  if (new Set(tags.map((t) => t.TagKey)).size !== tags.length) throw kmsFail('TagException', 'Duplicate tag keys');
  return tags;
}

/** Key lifecycle: create, describe, list, enable/disable, deletion, rotation, policy and tags. */
export function keyOperations(deps: KmsDeps): AwsOperations {
  const { keys } = deps;
  const update = (key: KmsKey, signal: AbortSignal, f: (k: KmsKey) => KmsKey) => keys.store.updateKey(key.keyId, f, signal);
  const notPending = (key: KmsKey) => {
    if (key.state === 'PendingDeletion') throw kmsFail('KMSInvalidStateException', `${key.arn} is pending deletion.`);
  };
  return {
    CreateKey: {
      access: () => ({ action: 'kms:CreateKey', resource: '*' }),
      async handle(input, ctx) {
        const spec = str(input.KeySpec ?? input.CustomerMasterKeySpec) || 'SYMMETRIC_DEFAULT';
        const usage = SUPPORTED_SPECS[spec];
        if (!usage) throw kmsFail('UnsupportedOperationException', `berth supports KeySpec SYMMETRIC_DEFAULT, ECC_NIST_P256 and RSA_2048, not ${spec}`);
        if (input.KeyUsage !== undefined && input.KeyUsage !== usage) throw kmsFail('ValidationException', `KeyUsage ${str(input.KeyUsage)} is not compatible with KeySpec ${spec}`);
        if (input.Origin !== undefined && input.Origin !== 'AWS_KMS') throw kmsFail('UnsupportedOperationException', 'berth creates keys with Origin AWS_KMS only');
        if (input.MultiRegion === true) throw kmsFail('UnsupportedOperationException', 'berth has no multi-Region keys');
        if (typeof input.Policy === 'string') checkPolicy(input.Policy);
        const key = await keys.create(ctx.principal.accountId, {
          spec, usage, description: str(input.Description), tags: tagsOf(input.Tags),
          ...(typeof input.Policy === 'string' ? { policy: input.Policy } : {}),
        }, ctx.signal);
        return { KeyMetadata: keys.metadata(key) };
      },
    },
    DescribeKey: onKey(deps, 'kms:DescribeKey', async (key) => ({ KeyMetadata: keys.metadata(key) })),
    ListKeys: {
      access: () => ({ action: 'kms:ListKeys', resource: '*' }),
      async handle(input, ctx) {
        const all = await keys.store.listKeys(ctx.principal.accountId, { limit: 100_000 }, ctx.signal);
        const p = page(all, (k) => k.keyId, input);
        return { Keys: p.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: p.next !== undefined, ...(p.next ? { NextMarker: p.next } : {}) };
      },
    },
    EnableKey: onKey(deps, 'kms:EnableKey', async (key, _i, ctx) => {
      requireCustomerManaged(key, 'enable');
      notPending(key);
      await update(key, ctx.signal, (k) => ({ ...k, state: 'Enabled' }));
      return {};
    }),
    DisableKey: onKey(deps, 'kms:DisableKey', async (key, _i, ctx) => {
      requireCustomerManaged(key, 'disable');
      notPending(key);
      await update(key, ctx.signal, (k) => ({ ...k, state: 'Disabled' }));
      return {};
    }),
    ScheduleKeyDeletion: onKey(deps, 'kms:ScheduleKeyDeletion', async (key, input, ctx) => {
      requireCustomerManaged(key, 'schedule deletion of');
      notPending(key);
      const days = typeof input.PendingWindowInDays === 'number' ? input.PendingWindowInDays : 30;
      if (days < 7 || days > 30) throw kmsFail('ValidationException', `PendingWindowInDays must be between 7 and 30 days; ${days} given`);
      const deletionDate = new Date(Date.now() + days * DAY);
      await update(key, ctx.signal, (k) => ({ ...k, state: 'PendingDeletion', deletionDate, pendingWindowInDays: days }));
      return { KeyId: key.arn, DeletionDate: epoch(deletionDate), KeyState: 'PendingDeletion', PendingWindowInDays: days };
    }),
    CancelKeyDeletion: onKey(deps, 'kms:CancelKeyDeletion', async (key, _i, ctx) => {
      if (key.state !== 'PendingDeletion') throw kmsFail('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
      // As KMS: a key whose deletion is cancelled comes back disabled.
      await update(key, ctx.signal, ({ deletionDate: _d, pendingWindowInDays: _p, ...k }) => ({ ...k, state: 'Disabled' }));
      return { KeyId: key.arn };
    }),
    EnableKeyRotation: onKey(deps, 'kms:EnableKeyRotation', async (key, input, ctx) => {
      requireCustomerManaged(key, 'change rotation of');
      if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsFail('UnsupportedOperationException', `${key.arn} is asymmetric; only symmetric keys rotate.`);
      if (key.state !== 'Enabled') throw kmsFail(key.state === 'Disabled' ? 'DisabledException' : 'KMSInvalidStateException', `${key.arn} is ${key.state === 'Disabled' ? 'disabled' : 'pending deletion'}.`);
      const period = typeof input.RotationPeriodInDays === 'number' ? input.RotationPeriodInDays : 365;
      await update(key, ctx.signal, (k) => ({ ...k, rotationEnabled: true, rotationPeriodInDays: period }));
      return {};
    }),
    DisableKeyRotation: onKey(deps, 'kms:DisableKeyRotation', async (key, _i, ctx) => {
      requireCustomerManaged(key, 'change rotation of');
      await update(key, ctx.signal, (k) => ({ ...k, rotationEnabled: false }));
      return {};
    }),
    GetKeyRotationStatus: onKey(deps, 'kms:GetKeyRotationStatus', async (key, _i, ctx) => {
      const next = await keys.nextRotation(key, ctx.signal);
      return {
        KeyRotationEnabled: key.rotationEnabled, KeyId: key.arn,
        ...(key.rotationEnabled ? { RotationPeriodInDays: key.rotationPeriodInDays } : {}),
        ...(next ? { NextRotationDate: epoch(next) } : {}),
      };
    }),
    RotateKeyOnDemand: onKey(deps, 'kms:RotateKeyOnDemand', async (key, _i, ctx) => {
      requireCustomerManaged(key, 'rotate');
      if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsFail('UnsupportedOperationException', `${key.arn} is asymmetric; only symmetric keys rotate.`);
      keys.requireUsable(key, 'ENCRYPT_DECRYPT');
      await keys.rotate(key, 'ON_DEMAND', ctx.signal);
      return { KeyId: key.keyId };
    }),
    ListKeyRotations: onKey(deps, 'kms:ListKeyRotations', async (key, input, ctx) => {
      const versions = (await keys.store.listVersions(key.keyId, ctx.signal)).filter((v) => v.origin !== 'INITIAL');
      const p = page(versions, (v) => String(v.version), input);
      return {
        Rotations: p.items.map((v) => ({ KeyId: key.keyId, RotationDate: epoch(v.createdAt), RotationType: v.origin })),
        Truncated: p.next !== undefined, ...(p.next ? { NextMarker: p.next } : {}),
      };
    }),
    GetKeyPolicy: onKey(deps, 'kms:GetKeyPolicy', async (key, input) => {
      if (input.PolicyName !== undefined && input.PolicyName !== 'default') throw kmsFail('NotFoundException', 'The only valid key policy name is default.');
      return { Policy: key.policy, PolicyName: 'default' };
    }),
    PutKeyPolicy: onKey(deps, 'kms:PutKeyPolicy', async (key, input, ctx) => {
      requireCustomerManaged(key, 'change the policy of');
      if (input.PolicyName !== undefined && input.PolicyName !== 'default') throw kmsFail('NotFoundException', 'The only valid key policy name is default.');
      const policy = str(input.Policy);
      checkPolicy(policy);
      await update(key, ctx.signal, (k) => ({ ...k, policy }));
      return {};
    }),
    TagResource: onKey(deps, 'kms:TagResource', async (key, input, ctx) => {
      const add = tagsOf(input.Tags);
      await update(key, ctx.signal, (k) => ({ ...k, tags: [...k.tags.filter((t) => !add.some((a) => a.TagKey === t.TagKey)), ...add] }));
      return {};
    }),
    UntagResource: onKey(deps, 'kms:UntagResource', async (key, input, ctx) => {
      const drop = new Set(input.TagKeys as string[]);
      await update(key, ctx.signal, (k) => ({ ...k, tags: k.tags.filter((t) => !drop.has(t.TagKey)) }));
      return {};
    }),
    ListResourceTags: onKey(deps, 'kms:ListResourceTags', async (key, input) => {
      const p = page([...key.tags].sort((a, b) => (a.TagKey < b.TagKey ? -1 : 1)), (t) => t.TagKey, input);
      return { Tags: p.items, Truncated: p.next !== undefined, ...(p.next ? { NextMarker: p.next } : {}) };
    }),
  };
}
