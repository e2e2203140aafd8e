/**
 * Domain types of vulnerability scanning: what an image contains (its inventory), what is wrong
 * with it (findings) and how a registry asks for scans (ECR's scanning configuration).
 */
import type { Digest } from './digest.js';

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL' | 'UNDEFINED';
export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'];

/** ECR `ScanStatus` values berth produces. */
export type ScanStatus = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED' | 'UNSUPPORTED_IMAGE';
export type ScanType = 'BASIC' | 'ENHANCED';
export type ScanFrequency = 'SCAN_ON_PUSH' | 'CONTINUOUS_SCAN' | 'MANUAL';

export interface ScanningRule {
  scanFrequency: ScanFrequency;
  repositoryFilters: { filter: string; filterType: 'WILDCARD' }[];
}

/** ECR `RegistryScanningConfiguration` of one account. */
export interface RegistryScanningConfig {
  scanType: ScanType;
  rules: ScanningRule[];
}

export const DEFAULT_REGISTRY_SCANNING: RegistryScanningConfig = Object.freeze({ scanType: 'BASIC', rules: [] }) as RegistryScanningConfig;

/** Package managers an inventory reads; the names match purl types. */
export type PackageType = 'deb' | 'apk' | 'rpm' | 'npm' | 'pypi' | 'golang' | 'maven' | 'cargo';

export interface InstalledPackage {
  type: PackageType;
  name: string;
  version: string;
  /** Source package (dpkg `Source:`, apk origin, rpm source rpm) when it differs or is known. */
  source?: { name: string; version: string };
  arch?: string;
  /** Path of the file the package was read from, without a leading slash. */
  path: string;
  /** Digest of the layer that last wrote that file. */
  layer?: Digest;
}

/** `/etc/os-release` fields that select distribution advisories. */
export interface OsRelease {
  id: string;
  versionId?: string;
  versionCodename?: string;
  prettyName?: string;
}

/** What is installed in one platform image, kept so a database change re-evaluates it without layers. */
export interface Inventory {
  os?: OsRelease;
  packages: InstalledPackage[];
  /** Things seen but not read (e.g. a BerkeleyDB rpmdb), reported so an empty result is explained. */
  notes: string[];
}

/**
 * The names `inventory`'s packages are looked up under in a vulnerability database, each once: a
 * package's own name and its source package's (scan/match/ecosystems.ts `queriesFor` uses no other).
 */
export function lookupNames(inventory: Inventory): string[] {
  const names = new Set<string>();
  for (const p of inventory.packages) {
    names.add(p.name);
    if (p.source) names.add(p.source.name);
  }
  return [...names];
}

export interface CvssRating {
  version: string;
  vector: string;
  score: number;
  source: string;
}

/** One vulnerability affecting one installed package. */
export interface Finding {
  vulnerabilityId: string;
  aliases: string[];
  summary: string;
  description: string;
  severity: Severity;
  cvss?: CvssRating;
  package: InstalledPackage;
  /** The lowest fixed version above the installed one, when the data names one. */
  fixedInVersion?: string;
  references: string[];
  /** OSV ecosystem the match came from, e.g. `Debian:12` or `npm`. */
  ecosystem: string;
  publishedAt?: Date;
  modifiedAt?: Date;
}

/** The scan state of one image (repository + manifest digest) in one account. */
export interface ScanRecord {
  accountId: string;
  repository: string;
  digest: Digest;
  status: ScanStatus;
  description: string;
  scanType: ScanType;
  startedAt: Date;
  completedAt?: Date;
  vulnSourceUpdatedAt?: Date;
  findings: Finding[];
  /** When each vulnerability id was first seen on this image (ENHANCED `firstObservedAt`). */
  firstObserved: Record<string, number>;
  /**
   * The vulnerability database version the findings were matched against, when it tracks changes:
   * a later re-evaluation against a descendant import only re-matches the records changed since.
   */
  evaluatedWith?: VulnDbVersion;
}

/**
 * One import of a vulnerability database: its own random id and its place in the chain of imports
 * that each compared their records with the one before (`generation` 1 started the chain).
 */
export interface VulnDbVersion {
  importId: string;
  generation: number;
}

const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'];

/** The order findings are reported in: by severity, then id, then package name and path (stable pages). */
export function compareFindings(x: Finding, y: Finding): number {
  return SEVERITY_ORDER.indexOf(x.severity) - SEVERITY_ORDER.indexOf(y.severity)
    || (x.vulnerabilityId < y.vulnerabilityId ? -1 : x.vulnerabilityId > y.vulnerabilityId ? 1 : 0)
    || (x.package.name < y.package.name ? -1 : x.package.name > y.package.name ? 1 : 0)
    || (x.package.path < y.package.path ? -1 : 1);
}

export function severityCounts(findings: readonly Finding[]): Partial<Record<Severity, number>> {
  const out: Partial<Record<Severity, number>> = {};
  for (const f of findings) out[f.severity] = (out[f.severity] ?? 0) + 1;
  return out;
}

/**
 * The name a package is indexed and looked up under in `ecosystem`: PyPI names compare after PEP
 * 503 normalisation; every other ecosystem compares names exactly.
 */
export function packageKey(ecosystem: string, name: string): string {
  return ecosystem === 'PyPI' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}
