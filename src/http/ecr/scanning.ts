import type { Digest } from '../../core/digest.js';
import { fail } from '../../core/errors.js';
import type { ImageScanning } from '../../core/ports/image-scanning.js';
import { repoAccount, repoKey, repoName, type RepoKey } from '../../core/repo-key.js';
import type { RegistryScanningConfig } from '../../core/scanning.js';
import type { EcrImageId, EcrImageService } from '../../core/services/ecr/images.js';
import type { EcrRepositoryService } from '../../core/services/ecr/repositories.js';
import type { AwsOperation, AwsOperations } from '../aws/context.js';
import { basicFindingShape, enhancedFindingShape, findingsSummaryShape, scanStatusShape } from './scan-shapes.js';
import { accountOf, onRepository, repositoryArn, token, type RequireRepository } from './shapes.js';

const isOffset = (c: string): boolean => /^\d{1,9}$/.test(c);

/** The image an `imageId` names, or ECR's ImageNotFoundException. */
async function resolveImage(images: EcrImageService, repository: RepoKey, id: EcrImageId, signal: AbortSignal): Promise<{ digest: Digest; tag?: string }> {
  const r = await images.resolve(repository, id, signal);
  if (!r.ok) {
    if (r.failure.failureCode === 'ImageNotFound') {
      throw fail('ImageNotFound', `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repoName(repository)}' in the registry with id '${repoAccount(repository)}'`);
    }
    throw fail('InvalidParameter', r.failure.failureReason);
  }
  return { digest: r.digest, ...(r.tag ? { tag: r.tag } : {}) };
}

/** ECR's scanning operations over the scan module's use cases. */
export function scanningOperations(scanning: ImageScanning, images: EcrImageService, repos: EcrRepositoryService, requireRepository: RequireRepository): AwsOperations {
  return {
    PutRegistryScanningConfiguration: {
      access: () => ({ action: 'ecr:PutRegistryScanningConfiguration', resource: '*' }),
      async handle(input, ctx) {
        const config: RegistryScanningConfig = {
          scanType: (input.scanType as RegistryScanningConfig['scanType'] | undefined) ?? 'BASIC',
          rules: (input.rules as RegistryScanningConfig['rules'] | undefined) ?? [],
        };
        const saved = await scanning.putRegistryConfig(ctx.principal.accountId, config, ctx.signal);
        return { registryScanningConfiguration: saved };
      },
    },
    GetRegistryScanningConfiguration: {
      access: () => ({ action: 'ecr:GetRegistryScanningConfiguration', resource: '*' }),
      async handle(_input, ctx) {
        return { registryId: ctx.principal.accountId, scanningConfiguration: await scanning.getRegistryConfig(ctx.principal.accountId, ctx.signal) };
      },
    },
    BatchGetRepositoryScanningConfiguration: {
      access: null,
      async handle(input, ctx) {
        const accountId = ctx.principal.accountId;
        const scanningConfigurations: Record<string, unknown>[] = [];
        const failures: Record<string, unknown>[] = [];
        for (const name of input.repositoryNames as string[]) {
          const key = repoKey(accountId, name);
          await ctx.authorize('ecr:BatchGetRepositoryScanningConfiguration', { repository: key });
          let repo;
          try {
            repo = await repos.get(key, ctx.signal);
          } catch {
            failures.push({ repositoryName: name, failureCode: 'REPOSITORY_NOT_FOUND', failureReason: 'REPOSITORY_NOT_FOUND' });
            continue;
          }
          const cfg = await scanning.repositoryConfig(repo, ctx.signal);
          scanningConfigurations.push({ repositoryArn: repositoryArn(ctx.region, accountId, name), repositoryName: name, ...cfg });
        }
        return { scanningConfigurations, failures };
      },
    },
    StartImageScan: onRepository('ecr:StartImageScan', requireRepository, async (repository, input, ctx) => {
      const accountId = repoAccount(repository);
      const name = repoName(repository);
      const id = input.imageId as EcrImageId;
      const { digest } = await resolveImage(images, repository, id, ctx.signal);
      const record = await scanning.startScan(accountId, name, digest, ctx.signal);
      return { registryId: accountId, repositoryName: name, imageId: { imageDigest: digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) }, imageScanStatus: scanStatusShape(record) };
    }),
    DescribeImageScanFindings: onRepository('ecr:DescribeImageScanFindings', requireRepository, async (repository, input, ctx) => {
      const accountId = repoAccount(repository);
      const name = repoName(repository);
      const id = input.imageId as EcrImageId;
      const { digest } = await resolveImage(images, repository, id, ctx.signal);
      const scan = await scanning.getScan(accountId, name, digest, ctx.signal);
      if (!scan) throw fail('ScanNotFound', `Image scan does not exist for the image with '{imageDigest:'${digest}', imageTag:'${id.imageTag ?? 'null'}'}' in the repository with name '${name}' in the registry with id '${accountId}'`);
      const imageId = { imageDigest: digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) };
      const base = { registryId: accountId, repositoryName: name, imageId, imageScanStatus: scanStatusShape(scan) };
      if (scan.status !== 'COMPLETE') return base;
      const limit = typeof input.maxResults === 'number' ? input.maxResults : 100;
      const start = Number(token.decodeChecked(input.nextToken, isOffset) ?? '0');
      const page = scan.findings.slice(start, start + limit);
      const more = start + limit < scan.findings.length;
      const summary = findingsSummaryShape(scan) ?? {};
      let body: Record<string, unknown>;
      if (scan.scanType === 'ENHANCED') {
        const detail = (await images.describeImages(repository, [{ imageDigest: digest }], 'ANY', undefined, 1, ctx.signal)).images[0];
        const img = { region: ctx.region, accountId, repository: name, tags: detail?.tags ?? [], ...(detail ? { pushedAt: detail.pushedAt } : {}) };
        body = { ...summary, enhancedFindings: page.map((f) => enhancedFindingShape(f, scan, img)) };
      } else {
        body = { ...summary, findings: page.map(basicFindingShape) };
      }
      return { ...base, imageScanFindings: body, ...(more ? { nextToken: token.encode(String(start + limit)) } : {}) };
    }),
  };
}

/** DescribeImages with each image's `imageScanStatus` and `imageScanFindingsSummary` added. */
export function withScanStatus(inner: AwsOperation, scanning: ImageScanning): AwsOperation {
  return {
    ...inner,
    async handle(input, ctx) {
      const out = await inner.handle(input, ctx);
      const details = out.imageDetails as { imageDigest: Digest; repositoryName: string; registryId: string }[];
      const first = details[0];
      if (!first) return out;
      const scans = await scanning.getScans(accountOf(input, ctx), first.repositoryName, details.map((d) => d.imageDigest), ctx.signal);
      return {
        ...out,
        imageDetails: details.map((d) => {
          const s = scans.get(d.imageDigest);
          if (!s) return d;
          const summary = findingsSummaryShape(s);
          return { ...d, imageScanStatus: scanStatusShape(s), ...(summary ? { imageScanFindingsSummary: summary } : {}) };
        }),
      };
    },
  };
}
