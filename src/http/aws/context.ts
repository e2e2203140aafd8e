import type { AccessRequest, Principal } from '../../core/access.js';
import type { RepoKey } from '../../core/repo-key.js';

export type IamPrincipal = Principal & { kind: 'iam' };

/** What an AWS operation handler gets besides its validated input. */
export interface AwsCallContext {
  principal: IamPrincipal;
  requestId: string;
  region: string;
  /** `http://host:port` as the client addressed this server (for proxyEndpoint and presigned URLs). */
  origin: string;
  signal: AbortSignal;
  /** Authorizes one more action (e.g. per repository of a batch); throws `AccessDenied`. */
  authorize(action: `${string}:${string}`, target: { repository?: RepoKey; resource?: string; requestTags?: { Key: string; Value: string }[] }): Promise<void>;
}

/** Input as validated against the service model. */
export type AwsInput = Record<string, unknown>;

/**
 * One operation of an AWS service: the IAM action it needs (decided from the input before the
 * handler runs; `null` when the handler authorizes per item itself) and the handler.
 */
export interface AwsOperation {
  access: ((input: AwsInput, principal: IamPrincipal) => Omit<AccessRequest, 'principal' | 'context'>) | null;
  handle(input: AwsInput, ctx: AwsCallContext): Promise<Record<string, unknown>>;
}

export type AwsOperations = Readonly<Record<string, AwsOperation>>;
