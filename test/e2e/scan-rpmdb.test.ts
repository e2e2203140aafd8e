/**
 * An AlmaLinux 8 image whose rpm database is BerkeleyDB (as on RHEL/CentOS/Alma/Rocky 8, UBI 8 and
 * Amazon Linux 2) scanned end to end with the real `aws` CLI: `start-image-scan`, `wait
 * image-scan-complete`, `describe-image-scan-findings` with exact findings, the SBOM's rpm purls, and
 * a corrupt rpm database explained in the scan description. The database is written by rpmbuild,
 * rpm and db5.3_load (test/fixtures/rpmdb.ts); the advisories are imported with `berth vulndb import`.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateRepositoryCommand, DescribeImagesCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { awsCli, awsJson, uploadBlobWithEcrApi } from './aws-helpers.js';
import { BERTH_ARGS, BerthServer, REPO_ROOT, describeRun, expectOk, run, toolSkipReason } from './harness.js';
import { imageOf, type TestImage } from '../fixtures/scan-images.js';
import { bdbPackages, headerBlobs, missingRpmTools, rpmSqliteDb } from '../fixtures/rpmdb.js';

const skip = (await toolSkipReason('aws')) ?? missingRpmTools();
if (skip) console.log(`# skipping the rpmdb scan e2e: ${skip}`);

interface FindingsOut {
  imageScanStatus: { status: string; description: string };
  imageScanFindings?: { findings?: { name: string; severity: string; attributes: { key: string; value?: string }[] }[]; findingSeverityCounts: Record<string, number> };
}

const ALMA_8 = 'NAME="AlmaLinux"\nVERSION="8.9 (Midnight Oncilla)"\nID="almalinux"\nVERSION_ID="8.9"\nPLATFORM_ID="platform:el8"\n';
const CVSS_HIGH = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H';
const ADVISORIES = [
  { id: 'ALSA-2023:1405', summary: 'Important: openssl security update', severity: [{ type: 'CVSS_V3', score: CVSS_HIGH }], affected: [{ package: { ecosystem: 'AlmaLinux:8', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:1.1.1k-9.el8_7' }] }] }] },
  { id: 'ALSA-2022:7844', affected: [{ package: { ecosystem: 'AlmaLinux:8', name: 'bash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '4.4.20-4.el8_6' }] }] }] },
  { id: 'ALSA-2024:0001', database_specific: { severity: 'LOW' }, affected: [{ package: { ecosystem: 'AlmaLinux:8', name: 'tzdata' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] },
  { id: 'RLSA-2023:1405', affected: [{ package: { ecosystem: 'Rocky Linux:8', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] },
];

describe('scanning an image with a BerkeleyDB rpm database through the aws CLI', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let dir = '';
  let packages = Buffer.alloc(0);

  async function push(repo: string, tag: string, image: TestImage): Promise<void> {
    await server.ecr.send(new CreateRepositoryCommand({ repositoryName: repo }));
    for (const b of image.blobs) await uploadBlobWithEcrApi(server.ecr, repo, b.data, b.digest);
    await server.ecr.send(new PutImageCommand({ repositoryName: repo, imageTag: tag, imageManifest: image.manifest.toString('utf8'), imageManifestMediaType: image.mediaType }));
  }

  async function scan(repo: string): Promise<FindingsOut> {
    expectOk(await awsCli(server, ['ecr', 'start-image-scan', '--repository-name', repo, '--image-id', 'imageTag=v1']), server);
    const wait = await awsCli(server, ['ecr', 'wait', 'image-scan-complete', '--repository-name', repo, '--image-id', 'imageTag=v1']);
    assert.equal(wait.code, 0, describeRun(wait, server));
    return awsJson<FindingsOut>(server, ['ecr', 'describe-image-scan-findings', '--repository-name', repo, '--image-id', 'imageTag=v1']);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-rpmdb-e2e-'));
    const sqlite = rpmSqliteDb(dir, [
      { source: 'openssl', name: 'openssl-libs', epoch: 1, version: '1.1.1k', release: '7.el8_6', arch: 'x86_64' },
      { source: 'bash', name: 'bash', version: '4.4.20', release: '4.el8_6', arch: 'x86_64' },
      { source: 'tzdata', name: 'tzdata', version: '2023c', release: '1.el8', arch: 'noarch' },
    ]);
    packages = await readFile(bdbPackages(dir, 'alma8', headerBlobs(sqlite)));
    server = await BerthServer.start();
    const osv = join(dir, 'osv');
    await mkdir(osv);
    for (const r of ADVISORIES) await writeFile(join(osv, `${r.id.replace(':', '-')}.json`), JSON.stringify(r));
    expectOk(await run(process.execPath, [...BERTH_ARGS, 'vulndb', 'import', osv, '--data-dir', server.dataDir], { cwd: REPO_ROOT, timeoutMs: 60_000 }), server);
  });
  after(async () => {
    await server?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the AlmaLinux advisories of the rpm packages, with epochs and source rpms', async () => {
    const image = await imageOf([{ entries: [{ name: 'etc/os-release', data: ALMA_8 }, { name: 'var/lib/rpm/Packages', data: packages }] }]);
    await push('alma', 'v1', image);
    const out = await scan('alma');
    assert.equal(out.imageScanStatus.status, 'COMPLETE');
    assert.doesNotMatch(out.imageScanStatus.description, /rpm/, 'no note about the rpm database');
    const got = out.imageScanFindings!.findings!.map((f) => {
      const attr = (k: string) => f.attributes.find((a) => a.key === k)?.value ?? null;
      return [f.name, f.severity, attr('package_name'), attr('package_version'), attr('fixed_in_version'), attr('CVSS3_SCORE')];
    });
    assert.deepEqual(got, [
      ['ALSA-2023:1405', 'HIGH', 'openssl-libs', '1:1.1.1k-7.el8_6', '1:1.1.1k-9.el8_7', '7.5'],
      ['ALSA-2024:0001', 'LOW', 'tzdata', '2023c-1.el8', null, null],
    ]);
    assert.deepEqual(out.imageScanFindings!.findingSeverityCounts, { HIGH: 1, LOW: 1 });

    const digest = (await server.ecr.send(new DescribeImagesCommand({ repositoryName: 'alma', imageIds: [{ imageTag: 'v1' }] }))).imageDetails![0]!.imageDigest!;
    const bom = await (await server.fetch(`/v2/alma/_berth/sbom/${digest}`)).json() as { components: { purl?: string }[] };
    assert.deepEqual(bom.components.map((c) => c.purl).filter((p) => p?.startsWith('pkg:rpm/')).sort(), [
      'pkg:rpm/almalinux/bash@4.4.20-4.el8_6?arch=x86_64&distro=almalinux-8.9',
      'pkg:rpm/almalinux/openssl-libs@1.1.1k-7.el8_6?arch=x86_64&distro=almalinux-8.9&epoch=1',
      'pkg:rpm/almalinux/tzdata@2023c-1.el8?arch=noarch&distro=almalinux-8.9',
    ]);
  });

  it('a corrupt rpm database completes the scan and says why its packages are missing', async () => {
    const truncated = packages.subarray(0, packages.length / 2);
    const image = await imageOf([{ entries: [{ name: 'etc/os-release', data: ALMA_8 }, { name: 'var/lib/rpm/Packages', data: truncated }] }]);
    await push('alma-broken', 'v1', image);
    const out = await scan('alma-broken');
    assert.equal(out.imageScanStatus.status, 'COMPLETE');
    assert.match(out.imageScanStatus.description, /var\/lib\/rpm\/Packages: unreadable rpm database: the metadata claims \d+ pages of 4096 bytes but the file holds \d+ bytes/);
    assert.deepEqual(out.imageScanFindings?.findings ?? [], []);
  });
});
