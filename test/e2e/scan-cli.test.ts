/**
 * Vulnerability scanning end to end with the real `aws` CLI: scan on push, `aws ecr wait
 * image-scan-complete`, paged `describe-image-scan-findings` (BASIC and ENHANCED shapes), scan
 * status in `describe-images`, the 24 h StartImageScan limit, unsupported image types, and a
 * CONTINUOUS_SCAN re-evaluation after `berth vulndb import` runs against the live server, and a
 * scan of an image in a KMS-encrypted repository (the scanner reads layers through the decrypting
 * blob store; its SBOM is stored under the repository's key).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BatchGetRepositoryScanningConfigurationCommand, CreateRepositoryCommand, DescribeImageScanFindingsCommand, DescribeImagesCommand,
  GetRegistryScanningConfigurationCommand, PutImageCommand, StartImageScanCommand, waitUntilImageScanComplete,
} from '@aws-sdk/client-ecr';
import { awsCli, awsJson, cliErrorName, rejection, uploadBlobWithEcrApi } from './aws-helpers.js';
import { BERTH_ARGS, BerthServer, REPO_ROOT, describeRun, expectOk, run, sleep, toolSkipReason } from './harness.js';
import { imageOf, type TestImage } from '../fixtures/scan-images.js';
import { MACHINE_OS_RELEASE, MACHINE_STATUS, laterRecord, machineOsvFixture } from '../fixtures/scan-osv.js';

const skip = await toolSkipReason('aws');

interface Finding { name: string; severity: string; uri?: string; attributes: { key: string; value?: string }[] }
interface Enhanced {
  severity: string; fixAvailable: string; title: string; score?: number; status: string; type: string;
  packageVulnerabilityDetails: { vulnerabilityId: string; cvss: { baseScore: number; scoringVector: string; version: string }[]; vulnerablePackages: { name: string; version: string; fixedInVersion?: string; packageManager: string; sourceLayerHash?: string; filePath: string }[] };
}
interface FindingsOut {
  imageScanStatus: { status: string; description: string };
  imageScanFindings?: { findings?: Finding[]; enhancedFindings?: Enhanced[]; findingSeverityCounts: Record<string, number>; imageScanCompletedAt: number; vulnerabilitySourceUpdatedAt?: number };
  NextToken?: string; nextToken?: string;
}

describe('vulnerability scanning through the aws CLI', { skip: skip ?? false, timeout: 900_000 }, () => {
  let server: BerthServer;
  let files: string;
  const fixture = machineOsvFixture();
  const ecr = <T = Record<string, unknown>>(...args: string[]) => awsJson<T>(server, ['ecr', ...args]);

  async function importDb(name: string, records: unknown[]): Promise<void> {
    const dir = join(files, name);
    await mkdir(dir, { recursive: true });
    for (const r of records) await writeFile(join(dir, `${(r as { id: string }).id}.json`), JSON.stringify(r));
    expectOk(await run(process.execPath, [...BERTH_ARGS, 'vulndb', 'import', dir, '--data-dir', server.dataDir], { cwd: REPO_ROOT, timeoutMs: 60_000 }), server);
  }

  /** Pushes with the ECR API through the AWS SDK (the CLI is kept for the scanning calls: it is slow to start). */
  async function push(repo: string, tag: string, image: TestImage): Promise<void> {
    for (const b of image.blobs) await uploadBlobWithEcrApi(server.ecr, repo, b.data, b.digest);
    await server.ecr.send(new PutImageCommand({ repositoryName: repo, imageTag: tag, imageManifest: image.manifest.toString('utf8'), imageManifestMediaType: image.mediaType }));
  }

  const dpkgImage = () => imageOf([
    { entries: [
      { name: 'usr/lib/os-release', data: MACHINE_OS_RELEASE },
      { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
      { name: 'var/lib/dpkg/status', data: MACHINE_STATUS },
    ] },
    { compression: 'zstd', entries: [{ name: 'app/node_modules/lodash/package.json', data: JSON.stringify({ name: 'lodash', version: '4.17.20' }) }] },
  ]);

  before(async () => {
    server = await BerthServer.start();
    files = join(server.workDir, 'scan');
    await mkdir(files, { recursive: true });
    // Imported while the server runs: the next scan must see it without a restart.
    await importDb('db1', fixture.records);
  });
  after(async () => {
    await server?.dispose();
  });

  it('scans on push; the waiter returns; findings come back paged with exact severities and fixed versions', async () => {
    await server.ecr.send(new CreateRepositoryCommand({ repositoryName: 'scanned' }));
    const cfg = await ecr<{ imageScanningConfiguration: { scanOnPush: boolean } }>('put-image-scanning-configuration', '--repository-name', 'scanned', '--image-scanning-configuration', 'scanOnPush=true');
    assert.equal(cfg.imageScanningConfiguration.scanOnPush, true);
    const image = await dpkgImage();
    await push('scanned', 'v1', image);

    const wait = await awsCli(server, ['ecr', 'wait', 'image-scan-complete', '--repository-name', 'scanned', '--image-id', 'imageTag=v1']);
    assert.equal(wait.code, 0, describeRun(wait, server));

    // The CLI follows nextToken by itself; --page-size 1 makes it fetch one finding per call.
    const all = await ecr<FindingsOut>('describe-image-scan-findings', '--repository-name', 'scanned', '--image-id', 'imageTag=v1', '--page-size', '1');
    assert.equal(all.imageScanStatus.status, 'COMPLETE');
    const got = all.imageScanFindings!.findings!.map((f) => {
      const attr = (k: string) => f.attributes.find((a) => a.key === k)?.value;
      return {
        name: f.name, severity: f.severity, packageName: attr('package_name')!, packageVersion: attr('package_version')!,
        ...(attr('fixed_in_version') ? { fixedInVersion: attr('fixed_in_version') } : {}),
        ...(attr('CVSS3_SCORE') ?? attr('CVSS4_SCORE') ? { cvssScore: Number(attr('CVSS3_SCORE') ?? attr('CVSS4_SCORE')) } : {}),
      };
    });
    assert.deepEqual(got, fixture.expected);
    const counts = (sev: string) => fixture.expected.filter((e) => e.severity === sev).length;
    const expectedCounts = { CRITICAL: counts('CRITICAL'), HIGH: counts('HIGH'), MEDIUM: counts('MEDIUM'), LOW: counts('LOW') };
    assert.deepEqual(all.imageScanFindings!.findingSeverityCounts, expectedCounts);
    assert.ok(all.imageScanFindings!.vulnerabilitySourceUpdatedAt, 'the database import time is reported');

    const page = await ecr<FindingsOut>('describe-image-scan-findings', '--repository-name', 'scanned', '--image-id', 'imageTag=v1', '--max-items', '2');
    assert.deepEqual(page.imageScanFindings!.findings!.map((f) => f.name), fixture.expected.slice(0, 2).map((e) => e.name));
    assert.ok(page.NextToken, 'a second page is offered');
    const rest = await ecr<FindingsOut>('describe-image-scan-findings', '--repository-name', 'scanned', '--image-id', 'imageTag=v1', '--starting-token', page.NextToken!);
    assert.deepEqual(rest.imageScanFindings!.findings!.map((f) => f.name), fixture.expected.slice(2).map((e) => e.name));

    const described = await server.ecr.send(new DescribeImagesCommand({ repositoryName: 'scanned', imageIds: [{ imageTag: 'v1' }] }));
    assert.equal(described.imageDetails?.[0]?.imageScanStatus?.status, 'COMPLETE');
    assert.deepEqual(described.imageDetails?.[0]?.imageScanFindingsSummary?.findingSeverityCounts, expectedCounts);
  });

  it('the first scan attaches a CycloneDX SBOM as an OCI referrer, also downloadable from berth', async () => {
    const digest = (await server.ecr.send(new DescribeImagesCommand({ repositoryName: 'scanned', imageIds: [{ imageTag: 'v1' }] }))).imageDetails![0]!.imageDigest!;
    const res = await server.fetch(`/v2/scanned/referrers/${digest}?artifactType=${encodeURIComponent('application/vnd.cyclonedx+json')}`);
    assert.equal(res.status, 200);
    const index = await res.json() as { manifests: { artifactType?: string; digest: string }[] };
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]!.artifactType, 'application/vnd.cyclonedx+json');
    const dl = await server.fetch(`/v2/scanned/_berth/sbom/${digest}`);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get('content-type'), 'application/vnd.cyclonedx+json');
    const bom = await dl.json() as { bomFormat: string; specVersion: string; components: { name: string; version: string; purl?: string; type: string }[] };
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.specVersion, '1.5');
    assert.ok(bom.components.some((c) => c.purl === 'pkg:npm/lodash@4.17.20'));
    const first = fixture.expected[0]!;
    assert.ok(bom.components.some((c) => c.name === first.packageName && c.version === first.packageVersion && c.purl?.startsWith(`pkg:deb/debian/${first.packageName}@`)));
    assert.equal(bom.components.filter((c) => c.type === 'library').length, MACHINE_STATUS.split(/\n\s*\n/).filter((p) => /^Status: .*installed$/m.test(p)).length + 1);
    const anon = await server.fetch(`/v2/scanned/_berth/sbom/${digest}`, { anonymous: true });
    assert.equal(anon.status, 401, 'the SBOM needs the same rights as a pull');
  });

  it('start-image-scan scans once; a second request within 24 h is LimitExceededException', async () => {
    const first = await ecr<{ imageScanStatus: { status: string } }>('start-image-scan', '--repository-name', 'scanned', '--image-id', 'imageTag=v1');
    assert.equal(first.imageScanStatus.status, 'IN_PROGRESS');
    const second = await awsCli(server, ['ecr', 'start-image-scan', '--repository-name', 'scanned', '--image-id', 'imageTag=v1']);
    assert.notEqual(second.code, 0);
    assert.equal(cliErrorName(second), 'LimitExceededException', describeRun(second, server));
    expectOk(await awsCli(server, ['ecr', 'wait', 'image-scan-complete', '--repository-name', 'scanned', '--image-id', 'imageTag=v1']), server);
  });

  it('an image without a scan is ScanNotFoundException; an image index is UnsupportedImageTypeException (AWS SDK)', async () => {
    await server.ecr.send(new CreateRepositoryCommand({ repositoryName: 'manual' }));
    const image = await dpkgImage();
    await push('manual', 'v1', image);
    const none = await rejection(server.ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'manual', imageId: { imageTag: 'v1' } })));
    assert.equal(none.name, 'ScanNotFoundException');
    const index = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifest.length, platform: { architecture: 'amd64', os: 'linux' } }],
    });
    await server.ecr.send(new PutImageCommand({ repositoryName: 'manual', imageTag: 'multi', imageManifest: index, imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }));
    const r = await rejection(server.ecr.send(new StartImageScanCommand({ repositoryName: 'manual', imageId: { imageTag: 'multi' } })));
    assert.equal(r.name, 'UnsupportedImageTypeException');
  });

  it('scans an image in a KMS-encrypted repository: layers read through the decrypting store, the SBOM under the key', async () => {
    const key = await awsJson<{ KeyMetadata: { KeyId: string; Arn: string } }>(server, ['kms', 'create-key', '--description', 'scanned repository key']);
    await server.ecr.send(new CreateRepositoryCommand({
      repositoryName: 'kms-scanned', imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey: key.KeyMetadata.Arn },
    }));
    // Content of its own (a marker file), so no other repository already stores these blobs.
    const image = await imageOf([
      { entries: [
        { name: 'usr/lib/os-release', data: MACHINE_OS_RELEASE },
        { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
        { name: 'var/lib/dpkg/status', data: MACHINE_STATUS },
        { name: 'etc/kms-scanned-marker', data: `only in the KMS repository ${key.KeyMetadata.KeyId}\n` },
      ] },
      { compression: 'zstd', entries: [{ name: 'app/node_modules/lodash/package.json', data: JSON.stringify({ name: 'lodash', version: '4.17.20' }) }] },
    ]);
    await push('kms-scanned', 'v1', image);

    // At rest the layers are ciphertext: had the scanner read the raw store it would find nothing.
    for (const b of image.blobs) {
      const hex = b.digest.slice('sha256:'.length);
      const stored = await readFile(join(server.dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex));
      assert.ok(stored.length > b.data.length, `${b.digest} is stored as an envelope`);
      for (let i = 0; i < b.data.length; i += 32) assert.ok(!stored.includes(b.data.subarray(i, i + 32)), `${b.digest} holds no plaintext (bytes ${i}+)`);
    }

    await waitUntilImageScanComplete({ client: server.ecr, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { repositoryName: 'kms-scanned', imageId: { imageTag: 'v1' } });
    const out = await server.ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'kms-scanned', imageId: { imageTag: 'v1' } })) as unknown as FindingsOut;
    assert.equal(out.imageScanStatus.status, 'COMPLETE');
    assert.deepEqual(out.imageScanFindings!.findings!.map((f) => f.name), fixture.expected.map((e) => e.name), 'the same packages and findings as the unencrypted image');

    // The SBOM is the repository's own blob: readable while the key is enabled, not while it is disabled.
    const sbom = () => server.fetch(`/v2/kms-scanned/_berth/sbom/${image.manifestDigest}`);
    const ok = await sbom();
    assert.equal(ok.status, 200);
    const bom = await ok.json() as { components: { purl?: string }[] };
    assert.ok(bom.components.some((c) => c.purl === 'pkg:npm/lodash@4.17.20'));
    expectOk(await awsCli(server, ['kms', 'disable-key', '--key-id', key.KeyMetadata.KeyId]), server);
    try {
      const refused = await sbom();
      assert.equal(refused.status, 403, 'a disabled key stops reads of the SBOM too');
      assert.match(await refused.text(), new RegExp(key.KeyMetadata.KeyId));
    } finally {
      expectOk(await awsCli(server, ['kms', 'enable-key', '--key-id', key.KeyMetadata.KeyId]), server);
    }
    assert.equal((await sbom()).status, 200);
  });

  it('registry scanning rules: ENHANCED findings with package details, and CONTINUOUS_SCAN re-evaluates after a database import', async () => {
    const rules = JSON.stringify([{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: 'cont*', filterType: 'WILDCARD' }] }]);
    await ecr('put-registry-scanning-configuration', '--scan-type', 'ENHANCED', '--rules', rules);
    const reg = await server.ecr.send(new GetRegistryScanningConfigurationCommand({}));
    assert.equal(reg.scanningConfiguration?.scanType, 'ENHANCED');
    assert.deepEqual(reg.scanningConfiguration?.rules, JSON.parse(rules));
    await server.ecr.send(new CreateRepositoryCommand({ repositoryName: 'continuous' }));
    const batch = await server.ecr.send(new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: ['continuous', 'manual', 'nope'] }));
    assert.deepEqual(batch.scanningConfigurations?.map((c) => [c.repositoryName, c.scanFrequency, c.scanOnPush]), [['continuous', 'CONTINUOUS_SCAN', true], ['manual', 'MANUAL', false]]);
    assert.deepEqual(batch.failures?.map((f) => [f.repositoryName, f.failureCode]), [['nope', 'REPOSITORY_NOT_FOUND']]);

    await push('continuous', 'v1', await dpkgImage());
    // The SDK's waiter is the same ImageScanComplete waiter definition the CLI uses.
    await waitUntilImageScanComplete({ client: server.ecr, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { repositoryName: 'continuous', imageId: { imageTag: 'v1' } });
    const enhanced = await server.ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'continuous', imageId: { imageTag: 'v1' } })) as unknown as FindingsOut;
    const lodash = enhanced.imageScanFindings!.enhancedFindings!.find((f) => f.packageVulnerabilityDetails.vulnerabilityId === 'GHSA-test-lodash')!;
    assert.equal(lodash.severity, 'HIGH');
    assert.equal(lodash.fixAvailable, 'YES');
    assert.equal(lodash.score, 8.1);
    assert.deepEqual(lodash.packageVulnerabilityDetails.cvss.map((c) => [c.baseScore, c.version]), [[8.1, '3.1']]);
    const vp = lodash.packageVulnerabilityDetails.vulnerablePackages[0]!;
    assert.deepEqual([vp.name, vp.version, vp.fixedInVersion, vp.packageManager, vp.filePath], ['lodash', '4.17.20', '4.17.21', 'NODEPKG', 'app/node_modules/lodash/package.json']);
    assert.match(vp.sourceLayerHash ?? '', /^sha256:/);
    assert.equal(enhanced.imageScanFindings!.enhancedFindings!.length, fixture.expected.length);

    // A new database arrives while the server runs: the continuously scanned image gains the
    // finding without a push or a scan request; the manually scanned repository does not.
    const later = laterRecord();
    await importDb('db2', [...fixture.records, later.record]);
    let names: string[] = [];
    for (let i = 0; i < 120; i++) {
      const out = await server.ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'continuous', imageId: { imageTag: 'v1' } })) as unknown as FindingsOut;
      names = (out.imageScanFindings?.enhancedFindings ?? []).map((f) => f.packageVulnerabilityDetails.vulnerabilityId);
      if (names.includes(later.record.id)) break;
      await sleep(500);
    }
    assert.ok(names.includes(later.record.id), `re-evaluation added ${later.record.id}: ${names.join(', ')}`);
    const other = await server.ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'scanned', imageId: { imageTag: 'v1' } })) as unknown as FindingsOut;
    assert.ok(!(other.imageScanFindings?.findings ?? other.imageScanFindings?.enhancedFindings ?? []).some((f) => ('name' in f ? f.name : '') === later.record.id));
  });
});
