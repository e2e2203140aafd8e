/** Keys and records the ScanStore contract suites (scan-store*.contract.ts) share. */
import type { ScanKey } from '../../src/core/ports/scan-store.js';
import type { Finding, ScanRecord } from '../../src/core/scanning.js';
import { digestOf } from './meta-store-helpers.js';

export const A = '000000000000';
export const B = '111111111111';
export const key = (repository: string, label: string, accountId = A): ScanKey => ({ accountId, repository, digest: digestOf(label) });

export const finding: Finding = {
  vulnerabilityId: 'CVE-2024-0001', aliases: ['GHSA-x'], summary: 's', description: 'd', severity: 'HIGH',
  package: { type: 'deb', name: 'openssl', version: '3.0.0', path: 'var/lib/dpkg/status' }, fixedInVersion: '3.0.1',
  references: ['https://example.test/CVE-2024-0001'], ecosystem: 'Debian:12',
  publishedAt: new Date(Date.UTC(2024, 0, 2)), modifiedAt: new Date(Date.UTC(2024, 1, 3)),
};

export function scan(k: ScanKey, extra: Partial<ScanRecord> = {}): ScanRecord {
  return {
    ...k, status: 'COMPLETE', description: 'The scan was completed successfully.', scanType: 'BASIC',
    startedAt: new Date(1_000), completedAt: new Date(2_000), vulnSourceUpdatedAt: new Date(500),
    findings: [finding], firstObserved: { 'CVE-2024-0001': 1_500 }, ...extra,
  };
}
