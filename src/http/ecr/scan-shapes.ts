import { createHash } from 'node:crypto';
import type { Finding, InstalledPackage, ScanRecord } from '../../core/scanning.js';
import { severityCounts } from '../../core/scanning.js';
import { epoch } from './shapes.js';

/** Inspector's package manager names, as ENHANCED findings report them. */
const PACKAGE_MANAGER: Record<InstalledPackage['type'], string> = {
  deb: 'OS', apk: 'OS', rpm: 'OS', npm: 'NODEPKG', pypi: 'PYTHONPKG', golang: 'GOBINARY', maven: 'JAR', cargo: 'CARGO',
};

/** `1:2.3-4` → epoch 1, version 2.3, release 4 (OS packages); language packages keep the whole version. */
function splitVersion(p: InstalledPackage): { epoch?: number; version: string; release?: string } {
  if (p.type !== 'deb' && p.type !== 'rpm' && p.type !== 'apk') return { version: p.version };
  const m = /^(?:(\d+):)?(.+?)(?:-([^-]+))?$/.exec(p.version);
  if (!m) return { version: p.version };
  return { ...(m[1] ? { epoch: Number(m[1]) } : {}), version: m[2]!, ...(m[3] ? { release: m[3] } : {}) };
}

/** `imageScanStatus` of a record. */
export const scanStatusShape = (s: ScanRecord): Record<string, unknown> => ({ status: s.status, description: s.description });

/** `imageScanFindingsSummary` (DescribeImages) of a completed record. */
export function findingsSummaryShape(s: ScanRecord): Record<string, unknown> | undefined {
  if (s.status !== 'COMPLETE' || !s.completedAt) return undefined;
  return {
    imageScanCompletedAt: epoch(s.completedAt),
    ...(s.vulnSourceUpdatedAt ? { vulnerabilitySourceUpdatedAt: epoch(s.vulnSourceUpdatedAt) } : {}),
    findingSeverityCounts: severityCounts(s.findings),
  };
}

/** A BASIC `ImageScanFinding`. */
export function basicFindingShape(f: Finding): Record<string, unknown> {
  const attributes = [
    { key: 'package_version', value: f.package.version },
    { key: 'package_name', value: f.package.name },
    ...(f.fixedInVersion ? [{ key: 'fixed_in_version', value: f.fixedInVersion }] : []),
    ...(f.cvss ? [{ key: `CVSS${f.cvss.version.split('.')[0]}_SCORE`, value: String(f.cvss.score) }, { key: `CVSS${f.cvss.version.split('.')[0]}_VECTOR`, value: f.cvss.vector }] : []),
  ];
  return {
    name: f.vulnerabilityId,
    ...(f.description ? { description: f.description.slice(0, 2048) } : {}),
    ...(f.references[0] ? { uri: f.references[0] } : {}),
    severity: f.severity,
    attributes,
  };
}

export interface ImageContext {
  region: string;
  accountId: string;
  repository: string;
  tags: string[];
  pushedAt?: Date;
}

/** An ENHANCED `EnhancedImageScanFinding` (Amazon Inspector's shape). */
export function enhancedFindingShape(f: Finding, s: ScanRecord, img: ImageContext): Record<string, unknown> {
  const v = splitVersion(f.package);
  const id = createHash('sha256').update(`${s.digest}\u0000${f.vulnerabilityId}\u0000${f.package.name}\u0000${f.package.path}`).digest('hex').slice(0, 32);
  const first = s.firstObserved[f.vulnerabilityId] ?? s.completedAt?.getTime() ?? Date.now();
  const last = s.completedAt?.getTime() ?? Date.now();
  const source = f.vulnerabilityId.split('-')[0] ?? 'OSV';
  return {
    awsAccountId: img.accountId,
    description: (f.description || f.summary).slice(0, 2048),
    findingArn: `arn:aws:ecr:${img.region}:${img.accountId}:finding/${id}`,
    firstObservedAt: epoch(new Date(first)),
    lastObservedAt: epoch(new Date(last)),
    packageVulnerabilityDetails: {
      cvss: f.cvss ? [{ baseScore: f.cvss.score, scoringVector: f.cvss.vector, source: f.cvss.source, version: f.cvss.version }] : [],
      referenceUrls: f.references,
      relatedVulnerabilities: f.aliases,
      source,
      ...(f.references[0] ? { sourceUrl: f.references[0] } : {}),
      ...(f.publishedAt ? { vendorCreatedAt: epoch(f.publishedAt) } : {}),
      vendorSeverity: f.severity,
      ...(f.modifiedAt ? { vendorUpdatedAt: epoch(f.modifiedAt) } : {}),
      vulnerabilityId: f.vulnerabilityId,
      vulnerablePackages: [{
        ...(f.package.arch ? { arch: f.package.arch } : {}),
        ...(v.epoch !== undefined ? { epoch: v.epoch } : {}),
        filePath: f.package.path,
        name: f.package.name,
        packageManager: PACKAGE_MANAGER[f.package.type],
        ...(v.release ? { release: v.release } : {}),
        ...(f.package.layer ? { sourceLayerHash: f.package.layer } : {}),
        version: v.version,
        ...(f.fixedInVersion ? { fixedInVersion: f.fixedInVersion } : {}),
      }],
    },
    remediation: { recommendation: { text: f.fixedInVersion ? `Upgrade ${f.package.name} to version ${f.fixedInVersion} or later.` : 'None provided' } },
    resources: [{
      details: { awsEcrContainerImage: { imageHash: s.digest, imageTags: img.tags, registry: img.accountId, repositoryName: img.repository, ...(img.pushedAt ? { pushedAt: epoch(img.pushedAt) } : {}) } },
      id: `arn:aws:ecr:${img.region}:${img.accountId}:repository/${img.repository}/${s.digest}`,
      type: 'AWS_ECR_CONTAINER_IMAGE',
    }],
    ...(f.cvss ? { score: f.cvss.score, scoreDetails: { cvss: { adjustments: [], score: f.cvss.score, scoreSource: f.cvss.source, scoringVector: f.cvss.vector, version: f.cvss.version } } } : {}),
    severity: f.severity,
    status: 'ACTIVE',
    title: `${f.vulnerabilityId} - ${f.package.name}`,
    type: 'PACKAGE_VULNERABILITY',
    updatedAt: epoch(new Date(last)),
    fixAvailable: f.fixedInVersion ? 'YES' : 'NO',
    exploitAvailable: 'NO',
  };
}
