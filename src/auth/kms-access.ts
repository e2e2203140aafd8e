import { denied, type Principal } from '../core/access.js';
import type { KmsKey } from '../core/ports/key-store.js';
import { evaluate, parsePolicy } from './policy/index.js';
import type { PolicySource } from './policy-source.js';

/**
 * Authorization of KMS actions on a key by KMS's rule: the key policy must allow the request,
 * directly or by delegating to the account's IAM policies (then an identity policy must allow
 * too); an explicit Deny in either wins. Used by the KMS API and by blob pushes and pulls of
 * KMS-encrypted repositories (`kms:GenerateDataKey` / `kms:Decrypt` on the repository's key).
 */
export class KmsAuthorizer {
  constructor(private readonly policies: PolicySource, private readonly now: () => Date = () => new Date()) {}

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
