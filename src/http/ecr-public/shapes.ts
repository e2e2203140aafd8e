import { fail } from '../../core/errors.js';
import type { PublicRepository } from '../../core/services/public/public-repositories.js';
import type { PublicRepositoryService } from '../../core/services/public/public-repositories.js';
import type { CatalogInput } from '../../core/services/public/catalog.js';
import type { PublicRepositoryRecord } from '../../core/ports/public-registry.js';
import type { AwsCallContext, AwsInput, AwsOperation } from '../aws/context.js';
import { repoKey } from '../../core/repo-key.js';
import { epoch, str } from '../ecr/shapes.js';

export { epoch, str };

/** ECR Public ARNs have no region: `arn:aws:ecr-public::<account>:repository/<name>`. */
export const publicRepositoryArn = (accountId: string, shortName: string): string => `arn:aws:ecr-public::${accountId}:repository/${shortName}`;
export const publicRegistryArn = (accountId: string): string => `arn:aws:ecr-public::${accountId}:registry/${accountId}`;

/** Where the gallery serves a repository's logo; the version defeats caches when the logo changes. */
export const logoPath = (r: Pick<PublicRepositoryRecord, 'name' | 'logo'>): string | undefined =>
  r.logo ? `/ui/logos/${r.name}?v=${r.logo.etag}` : undefined;

/**
 * `host[:port]` of public repository URIs: the host the caller reached. A public repository's
 * `<alias>/<name>` path resolves to its account on every host, so no account host is needed.
 */
export function publicHost(ctx: Pick<AwsCallContext, 'origin'>): string {
  return ctx.origin.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
}

export function repositoryShape(p: PublicRepository, ctx: Pick<AwsCallContext, 'origin'>): Record<string, unknown> {
  const { record } = p;
  return {
    repositoryArn: publicRepositoryArn(record.accountId, record.shortName),
    registryId: record.accountId,
    repositoryName: record.shortName,
    repositoryUri: `${publicHost(ctx)}/${record.name}`,
    createdAt: epoch(record.createdAt),
  };
}

export function catalogShape(record: PublicRepositoryRecord, ctx: Pick<AwsCallContext, 'origin'>): Record<string, unknown> {
  const c = record.catalog;
  const logo = logoPath(record);
  return {
    ...(c.description ? { description: c.description } : {}),
    ...(c.architectures.length ? { architectures: c.architectures } : {}),
    ...(c.operatingSystems.length ? { operatingSystems: c.operatingSystems } : {}),
    ...(logo ? { logoUrl: `${ctx.origin}${logo}` } : {}),
    ...(c.aboutText ? { aboutText: c.aboutText } : {}),
    ...(c.usageText ? { usageText: c.usageText } : {}),
    marketplaceCertified: false,
  };
}

/** `RepositoryCatalogDataInput` from the wire: the logo arrives base64-encoded. */
export function catalogInput(v: unknown): CatalogInput {
  const c = (v ?? {}) as Record<string, unknown>;
  const out: CatalogInput = {};
  if (typeof c.description === 'string') out.description = c.description;
  if (typeof c.aboutText === 'string') out.aboutText = c.aboutText;
  if (typeof c.usageText === 'string') out.usageText = c.usageText;
  if (Array.isArray(c.architectures)) out.architectures = c.architectures as string[];
  if (Array.isArray(c.operatingSystems)) out.operatingSystems = c.operatingSystems as string[];
  if (typeof c.logoImageBlob === 'string') out.logoImageBlob = Buffer.from(c.logoImageBlob, 'base64');
  return out;
}

/**
 * The account a call acts on. ECR Public serves the caller's own registry: `registryId` (an
 * account id, or the alias where the model allows one) must name it.
 */
export async function ownRegistry(input: AwsInput, ctx: AwsCallContext, repos: PublicRepositoryService): Promise<{ accountId: string; alias: string }> {
  const accountId = ctx.principal.accountId;
  const alias = await repos.alias(accountId, ctx.signal);
  const given = input.registryId;
  if (typeof given === 'string' && given !== accountId && given !== alias) {
    throw Object.assign(fail('InvalidParameter', `The registry '${given.slice(0, 60)}' is not the public registry of account ${accountId}`), { awsType: 'RegistryNotFoundException' });
  }
  return { accountId, alias };
}

export type PublicHandler = (p: PublicRepository, input: AwsInput, ctx: AwsCallContext) => Promise<Record<string, unknown>>;

/**
 * An operation on an existing public repository of the caller's registry: authorized as `action`
 * on it (its repository policy applies), then required to exist, then handled.
 */
export function onPublicRepository(action: `ecr-public:${string}`, repos: PublicRepositoryService, handle: PublicHandler): AwsOperation {
  return {
    access: null,
    async handle(input, ctx) {
      const { accountId, alias } = await ownRegistry(input, ctx, repos);
      const shortName = str(input.repositoryName);
      await ctx.authorize(action, { repository: repoKey(accountId, `${alias}/${shortName}`) });
      return handle(await repos.get(accountId, shortName, ctx.signal), input, ctx);
    },
  };
}

/** `arn:aws:ecr-public::acct:repository/name` → its parts; `InvalidParameter` naming `resourceArn` otherwise. */
export function parsePublicArn(arn: unknown): { accountId: string; shortName: string } {
  const m = /^arn:aws:ecr-public::(\d{12}):repository\/(.+)$/.exec(str(arn));
  if (!m?.[1] || !m[2]) throw fail('InvalidParameter', "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'must be the ARN of an ECR Public repository'");
  return { accountId: m[1], shortName: m[2] };
}
