import { fail } from './errors.js';
import type { RepoKey } from './repo-key.js';

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
  | {
    kind: 'iam';
    arn: string;
    accountId: string;
    /** The IAM user; absent for the account root. */
    userName?: string;
    /** The access key the request was made with (directly, or behind a registry token or an STS session). */
    accessKeyId: string;
    /** Set when the request was signed with STS session credentials issued to that key. */
    session?: true;
  };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

/** Credentials as a surface received them, before any check. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string };

export interface AccessRequest {
  principal: Principal;
  /** `service:Action`, e.g. `ecr:BatchGetImage` or `iam:CreateUser`. */
  action: EcrAction | `${string}:${string}`;
  /** The repository acted on (in its account, existing or not); its ARN is the resource. */
  repository?: RepoKey;
  /** The resource ARN when it is not a repository (e.g. an IAM user); `*` when neither is given. */
  resource?: string;
  /** Tags the request sets (CreateRepository, TagResource): `aws:RequestTag/<key>` and `aws:TagKeys`. */
  requestTags?: { Key: string; Value: string }[];
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
   * For routes that need a caller but no permission (`GET /v2/`, `_catalog`): throws `Unauthenticated` for
   * anonymous callers when logins are required. `ping`: the route is `GET /v2/`, which the Docker token
   * flow also calls with an anonymous pull token (issue 7); no other route lets that token through.
   */
  assertAuthenticated(principal: Principal, opts?: { ping?: boolean }): void;
  /**
   * Whether a push may create a missing repository. True until the control plane exists: then
   * repositories are created explicitly and a push to a missing one gets `RepositoryNotFound`.
   */
  readonly createRepositoryOnPush: boolean;
}

/** The AccessDenied error AWS words as "User: ARN is not authorized to perform: ACTION on resource: ARN". */
export function denied(principal: Principal, action: string, resource: string, reason?: string): never {
  const who = principal.kind === 'iam' ? principal.arn : 'anonymous';
  throw fail('AccessDenied', `User: ${who} is not authorized to perform: ${action} on resource: ${resource}${reason ? ` because ${reason}` : ''}`, {
    action, resource,
  });
}
