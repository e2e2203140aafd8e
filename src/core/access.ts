import { fail } from './errors.js';

/** ECR IAM action names, exactly as AWS spells them; every `/v2` route declares the one it needs. */
export type EcrAction =
  | 'ecr:BatchGetImage'
  | 'ecr:GetDownloadUrlForLayer'
  | 'ecr:BatchCheckLayerAvailability'
  | 'ecr:InitiateLayerUpload'
  | 'ecr:UploadLayerPart'
  | 'ecr:CompleteLayerUpload'
  | 'ecr:PutImage'
  | 'ecr:BatchDeleteImage'
  | 'ecr:ListImages'
  | 'ecr:DescribeRepositories'
  | 'ecr:CreateRepository';

/** Who is calling. The control plane adds IAM users, roles and sessions. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'iam'; arn: string; accountId: string; userName?: string };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

/** Credentials as a surface received them, before any check. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string };

export interface AccessRequest {
  principal: Principal;
  action: EcrAction;
  /** The repository acted on; `undefined` for registry-wide actions such as the catalog. */
  repository?: string;
  /** Request context for policy conditions (aws:SourceIp, aws:SecureTransport, …). */
  context: { sourceIp: string; secureTransport: boolean };
}

/**
 * The one decision point for access. `authenticate` turns credentials into a principal (throws
 * `Unauthenticated` for bad or expired ones); `authorize` throws `AccessDenied` (or
 * `Unauthenticated` for an anonymous principal that must log in) and resolves when allowed.
 */
export interface AccessControl {
  authenticate(credentials: Credentials, signal: AbortSignal): Promise<Principal>;
  authorize(request: AccessRequest, signal: AbortSignal): Promise<void>;
  /**
   * Whether a push may create a missing repository. True until the control plane exists: then
   * repositories are created explicitly and a push to a missing one gets `RepositoryNotFound`.
   */
  readonly createRepositoryOnPush: boolean;
}

export function denied(action: EcrAction, repository?: string): never {
  throw fail('AccessDenied', `not authorized to perform ${action}${repository ? ` on repository ${repository}` : ''}`, {
    action, ...(repository ? { repository } : {}),
  });
}
