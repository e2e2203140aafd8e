import { fail } from '../../core/errors.js';
import type { ImageArchiveState } from '../../core/lifecycle.js';
import type { ImageDetail, Referrer, Repository } from '../../core/ports/meta-store.js';
import { repoAccount, repoKey, repoName, type RepoKey } from '../../core/repo-key.js';
import type { AccountHosts } from '../account-hosts.js';
import type { AwsCallContext, AwsInput, AwsOperation, IamPrincipal } from '../aws/context.js';

/** AWS JSON timestamps are epoch seconds. */
export const epoch = (d: Date): number => d.getTime() / 1000;

/** The account an ECR call acts on: `registryId` when given, else the caller's. */
export const accountOf = (input: AwsInput, ctx: Pick<AwsCallContext, 'principal'>): string =>
  typeof input.registryId === 'string' ? input.registryId : ctx.principal.accountId;

export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The repository an ECR call names: `repositoryName` in the account of `registryId` (or the caller's). */
export const repoOf = (input: AwsInput, principal: IamPrincipal): RepoKey =>
  repoKey(accountOf(input, { principal }), str(input.repositoryName));

/** The access rule of an operation on the repository named by its `registryId` and `repositoryName` inputs. */
export const repoAccess = (action: `ecr:${string}`) => (input: AwsInput, principal: IamPrincipal) => ({ action, repository: repoOf(input, principal) });

/** Resolves when the repository exists; throws `RepositoryNotFound` otherwise. */
export type RequireRepository = (repository: RepoKey, signal: AbortSignal) => Promise<unknown>;

/**
 * An operation on the existing repository its `repositoryName` input names, in the account of
 * `registryId` (or the caller's): authorized as `action` on that repository, then handled.
 */
export function onRepository(
  action: `ecr:${string}`,
  requireRepository: RequireRepository,
  handle: (repository: RepoKey, input: AwsInput, ctx: AwsCallContext) => Promise<Record<string, unknown>>,
): AwsOperation {
  return {
    access: repoAccess(action),
    async handle(input, ctx) {
      const repository = repoOf(input, ctx.principal);
      await requireRepository(repository, ctx.signal);
      return handle(repository, input, ctx);
    },
  };
}
export const optStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function repositoryArn(region: string, accountId: string, name: string): string {
  return `arn:aws:ecr:${region}:${accountId}:repository/${name}`;
}

/** `host[:port]` of the account's registry (the registry part of a repository URI). */
export function registryHost(accountId: string, ctx: Pick<AwsCallContext, 'origin'>, hosts: AccountHosts): string {
  return hosts.originFor(accountId, ctx.origin).replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
}

export function repositoryShape(r: Repository, ctx: Pick<AwsCallContext, 'origin' | 'region'>, hosts: AccountHosts): Record<string, unknown> {
  return {
    repositoryArn: repositoryArn(ctx.region, r.accountId, r.name),
    registryId: r.accountId,
    repositoryName: r.name,
    repositoryUri: `${registryHost(r.accountId, ctx, hosts)}/${r.name}`,
    createdAt: epoch(r.createdAt),
    imageTagMutability: r.settings.imageTagMutability,
    ...(r.settings.imageTagMutabilityExclusionFilters.length ? { imageTagMutabilityExclusionFilters: r.settings.imageTagMutabilityExclusionFilters } : {}),
    imageScanningConfiguration: { scanOnPush: r.settings.scanOnPush },
    encryptionConfiguration: r.settings.encryption,
  };
}

export function imageDetailShape(d: ImageDetail, repository: RepoKey, archive?: ImageArchiveState): Record<string, unknown> {
  return {
    registryId: repoAccount(repository),
    repositoryName: repoName(repository),
    imageDigest: d.digest,
    ...(d.tags.length ? { imageTags: d.tags } : {}),
    imageSizeInBytes: d.imageSize,
    imagePushedAt: epoch(d.pushedAt),
    imageManifestMediaType: d.mediaType,
    ...(d.artifactType ? { artifactMediaType: d.artifactType } : {}),
    ...(d.lastPulledAt ? { lastRecordedPullTime: epoch(d.lastPulledAt) } : {}),
    imageStatus: archive?.status ?? 'ACTIVE',
    ...(archive?.lastArchivedAt ? { lastArchivedAt: epoch(archive.lastArchivedAt) } : {}),
    ...(archive?.lastActivatedAt ? { lastActivatedAt: epoch(archive.lastActivatedAt) } : {}),
  };
}

export function referrerShape(r: Referrer): Record<string, unknown> {
  return {
    digest: r.digest, mediaType: r.mediaType, size: r.size, artifactStatus: 'ACTIVE',
    ...(r.artifactType ? { artifactType: r.artifactType } : {}),
    ...(r.annotations ? { annotations: r.annotations } : {}),
  };
}

/** Opaque pagination tokens: base64url of the store's cursor. */
export const token = {
  encode: (cursor: string | undefined): string | undefined => (cursor === undefined ? undefined : Buffer.from(cursor, 'utf8').toString('base64url')),
  decode: (t: unknown): string | undefined => (typeof t === 'string' && t ? Buffer.from(t, 'base64url').toString('utf8') : undefined),
  /** Decodes a token whose cursor must pass `valid`; anything else is a forged token (`InvalidParameter`). */
  decodeChecked: (t: unknown, valid: (cursor: string) => boolean): string | undefined => {
    const cursor = token.decode(t);
    if (cursor !== undefined && !valid(cursor)) throw fail('InvalidParameter', "Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token was not issued by this registry'");
    return cursor;
  },
};
