import { denied, type AccessRequest, type Principal } from '../core/access.js';
import { fail, isBerthError } from '../core/errors.js';
import type { KmsKey } from '../core/ports/key-store.js';
import type { RepositorySettings } from '../core/ports/meta-store.js';
import { evaluate, parsePolicy } from './policy/index.js';
import type { PolicySource } from './policy-source.js';

/**
 * Authorization of KMS actions on a key by KMS's rule: the key policy must allow the request,
 * directly or by delegating to the account's IAM policies (then an identity policy must allow
 * too); an explicit Deny in either wins. Used by the KMS API and by blob pushes and pulls of
 * KMS-encrypted repositories (`kms:GenerateDataKey` / `kms:Decrypt` on the repository's key).
 */
/**
 * The key permission a layer operation on a KMS-encrypted repository needs besides its `ecr:`
 * action, as with S3 SSE-KMS: reading layer bytes decrypts, writing them generates a data key.
 */
const KEY_ACTIONS: Record<string, `kms:${string}` | undefined> = {
  'ecr:GetDownloadUrlForLayer': 'kms:Decrypt',
  'ecr:InitiateLayerUpload': 'kms:GenerateDataKey',
  'ecr:UploadLayerPart': 'kms:GenerateDataKey',
  'ecr:CompleteLayerUpload': 'kms:GenerateDataKey',
};

const ARN_ACCOUNT = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:(\d{12}):key\//;

export class KmsAuthorizer {
  constructor(
    private readonly policies: PolicySource,
    private readonly resolveKey?: (accountId: string, ref: string, signal: AbortSignal) => Promise<KmsKey>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * For an allowed ECR request on a repository encrypted with a KMS key: also requires the key
   * permission its layer operation implies (see KEY_ACTIONS). A missing key is `KmsError`.
   */
  async authorizeRepositoryUse(request: AccessRequest, encryption: RepositorySettings['encryption'], signal: AbortSignal): Promise<void> {
    const action = KEY_ACTIONS[request.action];
    if (!action || encryption.encryptionType === 'AES256' || !encryption.kmsKey || !this.resolveKey) return;
    let key: KmsKey;
    try {
      key = await this.resolveKey(ARN_ACCOUNT.exec(encryption.kmsKey)?.[1] ?? '', encryption.kmsKey, signal);
    } catch (err) {
      if (isBerthError(err) && err.code !== 'Internal') throw fail('KmsError', `KMS key ${encryption.kmsKey} cannot be used: ${err.message}`, { kmsKey: encryption.kmsKey });
      throw err;
    }
    await this.authorize(request.principal, action, key, request.context, signal);
  }

  /** Resolves when allowed; throws `AccessDenied` in AWS's wording otherwise. */
  async authorize(principal: Principal, action: `kms:${string}`, key: KmsKey, context: { sourceIp?: string; secureTransport?: boolean }, signal: AbortSignal): Promise<void> {
    if (principal.kind !== 'iam') denied(principal, action, key.arn);
    const parsed = parsePolicy(key.policy, 'resource');
    const keyPolicy = 'policy' in parsed ? [parsed.policy] : [];
    const identityPolicies = principal.userName ? await this.policies.userPolicies(principal.accountId, principal.userName, signal) : [];
    const result = evaluate({
      action, resource: key.arn, resourceAccount: key.accountId, identityPolicies, resourcePolicies: keyPolicy, keyPolicyRule: true,
      principal: { arn: principal.arn, account: principal.accountId, isRoot: !principal.userName },
      context: {
        'aws:CurrentTime': this.now(),
        ...(context.sourceIp !== undefined ? { 'aws:SourceIp': context.sourceIp } : {}),
        ...(context.secureTransport !== undefined ? { 'aws:SecureTransport': context.secureTransport } : {}),
        ...(principal.userName ? { 'aws:username': principal.userName } : {}),
        ...Object.fromEntries(key.tags.map((t) => [`aws:ResourceTag/${t.TagKey}`, t.TagValue])),
      },
    });
    if (result.decision === 'Allow') return;
    denied(principal, action, key.arn, result.decision === 'ExplicitDeny' ? 'an explicit deny applies' : 'no key policy or identity policy it delegates to allows it');
  }
}
