/**
 * The real `aws ecr …` CLI (v1, botocore) against a berth process, with only the root key berth
 * wrote to `<data>/credentials` (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE=/dev/null) and
 * `--endpoint-url` pointing at the one listener. Every call goes through botocore's own
 * serialization, signing, pagination and error parsing, so what passes here works for users.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateRepositoryCommand } from '@aws-sdk/client-ecr';
import { buildImageLayout, readLayoutBlob, sha256, type BuiltImage } from '../fixtures/oci-image.js';
import { awsCli, awsJson, cliErrorName } from './aws-helpers.js';
import { BerthServer, describeRun, toolSkipReason } from './harness.js';

const skip = await toolSkipReason('aws');
const ACCOUNT = '000000000000';

interface Repo {
  repositoryArn: string; registryId: string; repositoryName: string; repositoryUri: string; createdAt: number;
  imageTagMutability: string; imageTagMutabilityExclusionFilters?: { filterType: string; filter: string }[];
  imageScanningConfiguration: { scanOnPush: boolean }; encryptionConfiguration: { encryptionType: string };
}
interface ImageDetail { imageDigest: string; imageTags?: string[]; imageSizeInBytes: number; imagePushedAt: number; imageManifestMediaType: string }
interface ImageId { imageDigest?: string; imageTag?: string }
interface Failure { imageId: ImageId; failureCode: string; failureReason: string }

describe('aws ecr CLI against berth', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let files: string;
  const cli = (...args: string[]) => awsCli(server, ['ecr', ...args]);
  const ecr = <T = Record<string, unknown>>(...args: string[]) => awsJson<T>(server, ['ecr', ...args]);

  /** Runs a CLI call that must fail; resolves with the AWS error name and the whole stderr. */
  async function cliError(...args: string[]): Promise<{ name: string | undefined; stderr: string }> {
    const r = await cli(...args);
    assert.notEqual(r.code, 0, `expected the call to fail\n${describeRun(r, server)}`);
    assert.doesNotMatch(r.stderr, /ServerException|InternalFailure|\b500\b/, describeRun(r, server));
    return { name: cliErrorName(r), stderr: r.stderr };
  }

  /** Pushes one blob with initiate-layer-upload / upload-layer-part (in `parts` parts) / complete-layer-upload. */
  async function cliUploadBlob(repo: string, bytes: Buffer, parts = 1): Promise<string> {
    const digest = sha256(bytes);
    const { uploadId, partSize } = await ecr<{ uploadId: string; partSize: number }>('initiate-layer-upload', '--repository-name', repo);
    assert.match(uploadId, /\S/);
    assert.ok(partSize > 0);
    const step = Math.ceil(bytes.length / parts);
    for (let first = 0; first < bytes.length; first += step) {
      const chunk = bytes.subarray(first, Math.min(first + step, bytes.length));
      const file = join(files, `part-${randomBytes(4).toString('hex')}`);
      await writeFile(file, chunk);
      const last = first + chunk.length - 1;
      const out = await ecr<{ uploadId: string; lastByteReceived: number }>('upload-layer-part', '--repository-name', repo, '--upload-id', uploadId,
        '--part-first-byte', String(first), '--part-last-byte', String(last), '--layer-part-blob', `fileb://${file}`);
      assert.equal(out.uploadId, uploadId);
      assert.equal(out.lastByteReceived, last);
    }
    const done = await ecr<{ layerDigest: string; repositoryName: string; registryId: string }>('complete-layer-upload', '--repository-name', repo, '--upload-id', uploadId, '--layer-digests', digest);
    assert.deepEqual(done, { registryId: ACCOUNT, repositoryName: repo, uploadId, layerDigest: digest });
    return digest;
  }

  /** Builds a small image and pushes its blobs with the layer API; the manifest is left to the test. */
  async function pushBlobs(repo: string): Promise<BuiltImage & { manifestFile: string }> {
    const image = await buildImageLayout(join(files, `img-${randomBytes(4).toString('hex')}`), { layers: 1, filesPerLayer: 2 });
    for (const d of [...image.layers, image.config]) await cliUploadBlob(repo, await readLayoutBlob(image.dir, d.digest));
    const manifestFile = join(image.dir, 'manifest.json');
    await writeFile(manifestFile, image.manifestBytes);
    return { ...image, manifestFile };
  }

  before(async () => {
    server = await BerthServer.start();
    files = join(server.workDir, 'cli');
    await mkdir(files, { recursive: true });
  });
  after(async () => {
    await server?.dispose();
  });

  describe('repositories', () => {
    it('create-repository stores tags, IMMUTABLE_WITH_EXCLUSION with its filters, scanOnPush and AES256, and describe-repositories shows them', async () => {
      const { repository } = await ecr<{ repository: Repo }>('create-repository', '--repository-name', 'cli/settings',
        '--tags', 'Key=team,Value=platform', 'Key=env,Value=test',
        '--image-tag-mutability', 'IMMUTABLE_WITH_EXCLUSION', '--image-tag-mutability-exclusion-filters', 'filterType=WILDCARD,filter=dev-*',
        '--image-scanning-configuration', 'scanOnPush=true', '--encryption-configuration', 'encryptionType=AES256');
      assert.equal(repository.repositoryName, 'cli/settings');
      assert.equal(repository.registryId, ACCOUNT);
      assert.equal(repository.repositoryArn, `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/cli/settings`);
      assert.equal(repository.repositoryUri, `${server.host}/cli/settings`);
      assert.equal(repository.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
      assert.deepEqual(repository.imageTagMutabilityExclusionFilters, [{ filterType: 'WILDCARD', filter: 'dev-*' }]);
      assert.deepEqual(repository.imageScanningConfiguration, { scanOnPush: true });
      assert.equal(repository.encryptionConfiguration.encryptionType, 'AES256');
      assert.ok(Math.abs(repository.createdAt * 1000 - Date.now()) < 60_000, `createdAt ${repository.createdAt} is not now`);

      const { repositories } = await ecr<{ repositories: Repo[] }>('describe-repositories', '--repository-names', 'cli/settings');
      assert.deepEqual(repositories, [repository]);
      const { tags } = await ecr<{ tags: { Key: string; Value: string }[] }>('list-tags-for-resource', '--resource-arn', repository.repositoryArn);
      assert.deepEqual(tags.sort((a, b) => a.Key.localeCompare(b.Key)), [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'platform' }]);
    });

    it('creating a repository that exists answers RepositoryAlreadyExistsException', async () => {
      const { name } = await cliError('create-repository', '--repository-name', 'cli/settings');
      assert.equal(name, 'RepositoryAlreadyExistsException');
    });

    it('describe-repositories --page-size 4 follows nextToken through all 25 repositories, one request per page', async () => {
      const names = Array.from({ length: 25 }, (_, i) => `cli/page/r${String(i).padStart(2, '0')}`);
      for (const repositoryName of names) await server.ecr.send(new CreateRepositoryCommand({ repositoryName }));
      const before = await server.metric('berth_http_requests_total', { route: '/', method: 'POST' });
      const { repositories } = await ecr<{ repositories: Repo[]; nextToken?: string }>('describe-repositories', '--page-size', '4');
      const requests = (await server.metric('berth_http_requests_total', { route: '/', method: 'POST' })) - before;
      const paged = repositories.map((r) => r.repositoryName).filter((n) => n.startsWith('cli/page/'));
      assert.deepEqual(paged.sort(), names);
      assert.equal(new Set(repositories.map((r) => r.repositoryName)).size, repositories.length, 'a repository was listed twice');
      assert.equal(requests, Math.ceil(repositories.length / 4), `expected one DescribeRepositories per page of 4 for ${repositories.length} repositories`);
    });

    it('describe-repositories --max-items 10 prints 10 and a NextToken; --starting-token resumes without gaps or repeats', async () => {
      const first = await ecr<{ repositories: Repo[]; NextToken?: string }>('describe-repositories', '--max-items', '10', '--page-size', '4');
      assert.equal(first.repositories.length, 10);
      assert.ok(first.NextToken, 'the CLI printed no NextToken after --max-items');
      const rest = await ecr<{ repositories: Repo[]; NextToken?: string }>('describe-repositories', '--starting-token', first.NextToken, '--page-size', '4');
      assert.equal(rest.NextToken, undefined);
      const all = await ecr<{ repositories: Repo[] }>('describe-repositories');
      assert.deepEqual([...first.repositories, ...rest.repositories].map((r) => r.repositoryName), all.repositories.map((r) => r.repositoryName));
    });

    it('tag-resource adds and overwrites, untag-resource removes, list-tags-for-resource shows the result', async () => {
      const arn = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/cli/settings`;
      assert.deepEqual(await ecr('tag-resource', '--resource-arn', arn, '--tags', 'Key=team,Value=registry', 'Key=cost,Value=42'), {});
      assert.deepEqual(await ecr('untag-resource', '--resource-arn', arn, '--tag-keys', 'env'), {});
      const { tags } = await ecr<{ tags: { Key: string; Value: string }[] }>('list-tags-for-resource', '--resource-arn', arn);
      assert.deepEqual(tags.sort((a, b) => a.Key.localeCompare(b.Key)), [{ Key: 'cost', Value: '42' }, { Key: 'team', Value: 'registry' }]);
    });

    it('tagging a repository that does not exist answers RepositoryNotFoundException', async () => {
      const { name } = await cliError('tag-resource', '--resource-arn', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/cli/absent`, '--tags', 'Key=a,Value=b');
      assert.equal(name, 'RepositoryNotFoundException');
    });

    it('put-image-tag-mutability and put-image-scanning-configuration change what describe-repositories reports', async () => {
      const mut = await ecr<Record<string, unknown>>('put-image-tag-mutability', '--repository-name', 'cli/settings', '--image-tag-mutability', 'MUTABLE');
      assert.deepEqual(mut, { registryId: ACCOUNT, repositoryName: 'cli/settings', imageTagMutability: 'MUTABLE' });
      const scan = await ecr<Record<string, unknown>>('put-image-scanning-configuration', '--repository-name', 'cli/settings', '--image-scanning-configuration', 'scanOnPush=false');
      assert.deepEqual(scan, { registryId: ACCOUNT, repositoryName: 'cli/settings', imageScanningConfiguration: { scanOnPush: false } });
      const { repositories: [repo] } = await ecr<{ repositories: Repo[] }>('describe-repositories', '--repository-names', 'cli/settings');
      assert.equal(repo?.imageTagMutability, 'MUTABLE');
      assert.equal(repo?.imageTagMutabilityExclusionFilters, undefined);
      assert.deepEqual(repo?.imageScanningConfiguration, { scanOnPush: false });
    });
  });

  describe('layers', () => {
    let digest = '';
    let bytes: Buffer;
    let url = '';

    before(async () => {
      await ecr('create-repository', '--repository-name', 'cli/layers');
      bytes = randomBytes(300_000);
    });

    it('initiate-layer-upload, upload-layer-part from a file in two parts, and complete-layer-upload store the layer under its digest', async () => {
      digest = await cliUploadBlob('cli/layers', bytes, 2);
      assert.equal(digest, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    });

    it('batch-check-layer-availability reports the uploaded layer AVAILABLE with its size, and an unknown one not available', async () => {
      const missing = `sha256:${'0'.repeat(64)}`;
      const out = await ecr<{ layers: { layerDigest: string; layerAvailability: string; layerSize?: number }[]; failures: { layerDigest: string; failureCode: string }[] }>(
        'batch-check-layer-availability', '--repository-name', 'cli/layers', '--layer-digests', digest, missing);
      assert.deepEqual(out.layers.find((l) => l.layerDigest === digest), { layerDigest: digest, layerAvailability: 'AVAILABLE', layerSize: bytes.length });
      const other = out.layers.find((l) => l.layerDigest === missing);
      const failure = out.failures.find((f) => f.layerDigest === missing);
      // ECR answers either way for a digest it has never seen; what matters is that it is not AVAILABLE.
      assert.ok(other?.layerAvailability === 'UNAVAILABLE' || failure?.failureCode === 'MissingLayerDigest', JSON.stringify(out));
    });

    it('get-download-url-for-layer gives a URL that downloads the exact bytes with no credentials', async () => {
      const out = await ecr<{ downloadUrl: string; layerDigest: string }>('get-download-url-for-layer', '--repository-name', 'cli/layers', '--layer-digest', digest);
      assert.equal(out.layerDigest, digest);
      url = out.downloadUrl;
      assert.ok(url.startsWith(server.url), url);
      const res = await fetch(url); // plain fetch: no Authorization header at all
      assert.equal(res.status, 200);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), digest);
    });

    it('a download URL with a tampered signature, a moved expiry or another blob path is refused', async () => {
      const u = new URL(url);
      const sig = u.searchParams.get('X-Berth-Signature') ?? '';
      const tampered = new URL(url);
      tampered.searchParams.set('X-Berth-Signature', `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`);
      // The expiry is under the MAC: moving it (here into the past, i.e. an expired URL) breaks the signature too.
      const expired = new URL(url);
      expired.searchParams.set('X-Berth-Expires', String(Math.floor(Date.now() / 1000) - 60));
      const other = await cliUploadBlob('cli/layers', randomBytes(1000));
      const moved = new URL(url.replace(digest, other));
      const unsigned = new URL(u.origin + u.pathname);
      for (const bad of [tampered, expired, moved, unsigned]) {
        const res = await fetch(bad);
        await res.arrayBuffer();
        assert.ok(res.status === 401 || res.status === 403, `${bad.search} answered ${res.status}`);
      }
    });

    it('get-download-url-for-layer for a layer the repository does not have answers LayersNotFoundException', async () => {
      const { name } = await cliError('get-download-url-for-layer', '--repository-name', 'cli/layers', '--layer-digest', `sha256:${'1'.repeat(64)}`);
      assert.equal(name, 'LayersNotFoundException');
    });

    it('upload-layer-part that does not continue the upload, or whose range disagrees with its size, answers InvalidLayerPartException', async () => {
      const { uploadId } = await ecr<{ uploadId: string }>('initiate-layer-upload', '--repository-name', 'cli/layers');
      const file = join(files, 'part100.bin');
      await writeFile(file, randomBytes(100));
      const part = (first: number, last: number) => cliError('upload-layer-part', '--repository-name', 'cli/layers', '--upload-id', uploadId,
        '--part-first-byte', String(first), '--part-last-byte', String(last), '--layer-part-blob', `fileb://${file}`);
      assert.equal((await part(50, 149)).name, 'InvalidLayerPartException');
      assert.equal((await part(0, 10)).name, 'InvalidLayerPartException');
      // Nothing was accepted, so completing it is an empty upload.
      const empty = await cliError('complete-layer-upload', '--repository-name', 'cli/layers', '--upload-id', uploadId, '--layer-digests', sha256(Buffer.alloc(0)));
      assert.equal(empty.name, 'EmptyUploadException');
    });

    it('an upload id berth never issued answers UploadNotFoundException; a repository that does not exist RepositoryNotFoundException', async () => {
      const unknown = '11111111-2222-3333-4444-555555555555';
      const { name, stderr } = await cliError('complete-layer-upload', '--repository-name', 'cli/layers', '--upload-id', unknown, '--layer-digests', `sha256:${'5'.repeat(64)}`);
      assert.equal(name, 'UploadNotFoundException');
      assert.match(stderr, new RegExp(unknown));
      assert.equal((await cliError('initiate-layer-upload', '--repository-name', 'cli/never-created')).name, 'RepositoryNotFoundException');
    });

    it('complete-layer-upload with a digest that does not match the bytes answers InvalidLayerException', async () => {
      const { uploadId } = await ecr<{ uploadId: string }>('initiate-layer-upload', '--repository-name', 'cli/layers');
      const file = join(files, 'wrong.bin');
      await writeFile(file, randomBytes(100));
      await ecr('upload-layer-part', '--repository-name', 'cli/layers', '--upload-id', uploadId, '--part-first-byte', '0', '--part-last-byte', '99', '--layer-part-blob', `fileb://${file}`);
      const { name } = await cliError('complete-layer-upload', '--repository-name', 'cli/layers', '--upload-id', uploadId, '--layer-digests', `sha256:${'2'.repeat(64)}`);
      assert.equal(name, 'InvalidLayerException');
    });
  });

  describe('images', () => {
    let image: BuiltImage & { manifestFile: string };
    let pushedAfter = 0;

    before(async () => {
      await ecr('create-repository', '--repository-name', 'cli/images');
      pushedAfter = Date.now() - 2000;
      image = await pushBlobs('cli/images');
    });

    it('put-image with the manifest file tags the image, answering the manifest digest', async () => {
      const { image: put } = await ecr<{ image: { imageId: ImageId; imageManifest: string; repositoryName: string } }>('put-image',
        '--repository-name', 'cli/images', '--image-tag', 'v1', '--image-manifest', `file://${image.manifestFile}`, '--image-manifest-media-type', image.manifest.mediaType);
      assert.deepEqual(put.imageId, { imageDigest: image.manifest.digest, imageTag: 'v1' });
      assert.equal(put.imageManifest, image.manifestBytes.toString('utf8'));
      // A second tag for the same manifest.
      await ecr('put-image', '--repository-name', 'cli/images', '--image-tag', 'stable', '--image-manifest', `file://${image.manifestFile}`);
    });

    it('put-image of a manifest whose layers were never uploaded answers LayersNotFoundException', async () => {
      const manifest = JSON.parse(image.manifestBytes.toString('utf8')) as { layers: { digest: string }[] };
      manifest.layers[0]!.digest = `sha256:${'3'.repeat(64)}`;
      const file = join(files, 'dangling.json');
      await writeFile(file, JSON.stringify(manifest));
      const { name, stderr } = await cliError('put-image', '--repository-name', 'cli/images', '--image-tag', 'dangling', '--image-manifest', `file://${file}`);
      assert.equal(name, 'LayersNotFoundException');
      // ECR names the missing digests, the repository and the registry.
      assert.match(stderr, new RegExp(`sha256:${'3'.repeat(64)}`));
      assert.match(stderr, new RegExp(`repository with name 'cli/images' in the registry with id '${ACCOUNT}'`), stderr);
    });

    it('batch-get-image returns the exact manifest by tag and by digest, and a failure for an unknown tag', async () => {
      const out = await ecr<{ images: { imageId: ImageId; imageManifest: string; imageManifestMediaType: string }[]; failures: Failure[] }>('batch-get-image',
        '--repository-name', 'cli/images', '--image-ids', 'imageTag=v1', `imageDigest=${image.manifest.digest}`, 'imageTag=nope');
      assert.equal(out.images.length, 2);
      for (const img of out.images) {
        assert.equal(sha256(Buffer.from(img.imageManifest, 'utf8')), image.manifest.digest);
        assert.equal(img.imageManifestMediaType, image.manifest.mediaType);
      }
      assert.deepEqual(out.failures.map((f) => [f.imageId.imageTag, f.failureCode]), [['nope', 'ImageNotFound']]);
    });

    it('list-images lists the digest once per tag', async () => {
      const { imageIds } = await ecr<{ imageIds: ImageId[] }>('list-images', '--repository-name', 'cli/images');
      assert.deepEqual(imageIds.map((i) => `${i.imageDigest}:${i.imageTag}`).sort(), [`${image.manifest.digest}:stable`, `${image.manifest.digest}:v1`]);
      const untagged = await ecr<{ imageIds: ImageId[] }>('list-images', '--repository-name', 'cli/images', '--filter', 'tagStatus=UNTAGGED');
      assert.deepEqual(untagged.imageIds, []);
    });

    it('describe-images reports both tags, imageSizeInBytes as config plus layers, and imagePushedAt of the push', async () => {
      const { imageDetails } = await ecr<{ imageDetails: ImageDetail[] }>('describe-images', '--repository-name', 'cli/images');
      assert.equal(imageDetails.length, 1);
      const d = imageDetails[0]!;
      assert.equal(d.imageDigest, image.manifest.digest);
      assert.deepEqual([...(d.imageTags ?? [])].sort(), ['stable', 'v1']);
      assert.equal(d.imageSizeInBytes, image.config.size + image.layers.reduce((s, l) => s + l.size, 0));
      assert.equal(d.imageManifestMediaType, image.manifest.mediaType);
      assert.ok(d.imagePushedAt * 1000 >= pushedAfter && d.imagePushedAt * 1000 <= Date.now() + 2000, `imagePushedAt ${d.imagePushedAt}`);
      const byTag = await ecr<{ imageDetails: ImageDetail[] }>('describe-images', '--repository-name', 'cli/images', '--image-ids', 'imageTag=stable');
      assert.equal(byTag.imageDetails[0]?.imageDigest, image.manifest.digest);
    });

    it('batch-delete-image deletes what exists and reports ImageNotFound and InvalidImageDigest for the rest', async () => {
      const out = await ecr<{ imageIds: ImageId[]; failures: Failure[] }>('batch-delete-image', '--repository-name', 'cli/images',
        '--image-ids', 'imageTag=stable', 'imageTag=never-pushed', 'imageDigest=sha256:not-a-digest', `imageDigest=sha256:${'4'.repeat(64)}`);
      assert.deepEqual(out.imageIds, [{ imageDigest: image.manifest.digest, imageTag: 'stable' }]);
      const codes = Object.fromEntries(out.failures.map((f) => [f.imageId.imageTag ?? f.imageId.imageDigest, f.failureCode]));
      assert.deepEqual(codes, { 'never-pushed': 'ImageNotFound', 'sha256:not-a-digest': 'InvalidImageDigest', [`sha256:${'4'.repeat(64)}`]: 'ImageNotFound' });
      for (const f of out.failures) assert.match(f.failureReason, /\S/);
      const { imageIds } = await ecr<{ imageIds: ImageId[] }>('list-images', '--repository-name', 'cli/images');
      assert.deepEqual(imageIds, [{ imageDigest: image.manifest.digest, imageTag: 'v1' }]);
    });

    it('delete-repository refuses a repository with images (RepositoryNotEmptyException) and deletes it with --force', async () => {
      const { name } = await cliError('delete-repository', '--repository-name', 'cli/images');
      assert.equal(name, 'RepositoryNotEmptyException');
      const { repository } = await ecr<{ repository: Repo }>('delete-repository', '--repository-name', 'cli/images', '--force');
      assert.equal(repository.repositoryName, 'cli/images');
      const gone = await cliError('describe-repositories', '--repository-names', 'cli/images');
      assert.equal(gone.name, 'RepositoryNotFoundException');
      const res = await server.fetch(`/v2/cli/images/manifests/v1`);
      await res.arrayBuffer();
      assert.equal(res.status, 404);
    });
  });

  describe('registry, tokens and policies', () => {
    it('get-authorization-token returns base64 AWS:<token> valid for about 12 hours, with this listener as proxyEndpoint', async () => {
      const { authorizationData: [data] } = await ecr<{ authorizationData: { authorizationToken: string; expiresAt: number; proxyEndpoint: string }[] }>('get-authorization-token');
      assert.ok(data);
      const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
      assert.match(decoded, /^AWS:\S+$/);
      const hours = (data.expiresAt * 1000 - Date.now()) / 3_600_000;
      assert.ok(hours > 11.9 && hours <= 12.01, `token valid for ${hours} h`);
      assert.equal(data.proxyEndpoint, server.url);
      const res = await server.fetch('/v2/', { headers: { authorization: `Basic ${data.authorizationToken}` } });
      assert.equal(res.status, 200);
    });

    it('get-login-password prints a password that /v2 accepts with the user name AWS', async () => {
      const r = await cli('get-login-password');
      assert.equal(r.code, 0, describeRun(r, server));
      const res = await server.fetch('/v2/', { headers: { authorization: `Basic ${Buffer.from(`AWS:${r.stdout.trim()}`).toString('base64')}` } });
      assert.equal(res.status, 200);
    });

    it('set-repository-policy, get-repository-policy and delete-repository-policy round-trip; afterwards the policy is not found', async () => {
      await ecr('create-repository', '--repository-name', 'cli/policy');
      const policy = {
        Version: '2012-10-17',
        Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }],
      };
      const set = await ecr<{ policyText: string; repositoryName: string; registryId: string }>('set-repository-policy', '--repository-name', 'cli/policy', '--policy-text', JSON.stringify(policy));
      assert.equal(set.repositoryName, 'cli/policy');
      assert.deepEqual(JSON.parse(set.policyText), policy);
      const got = await ecr<{ policyText: string }>('get-repository-policy', '--repository-name', 'cli/policy');
      assert.deepEqual(JSON.parse(got.policyText), policy);
      const del = await ecr<{ policyText: string }>('delete-repository-policy', '--repository-name', 'cli/policy');
      assert.deepEqual(JSON.parse(del.policyText), policy);
      const { name } = await cliError('get-repository-policy', '--repository-name', 'cli/policy');
      assert.equal(name, 'RepositoryPolicyNotFoundException');
    });

    it('set-repository-policy with a document that is not a policy answers InvalidParameterException', async () => {
      const { name } = await cliError('set-repository-policy', '--repository-name', 'cli/policy', '--policy-text', '{"Statement":"nope"}');
      assert.equal(name, 'InvalidParameterException');
    });

    it('put-registry-policy, get-registry-policy and delete-registry-policy round-trip; afterwards it is not found', async () => {
      const policy = {
        Version: '2012-10-17',
        Statement: [{
          Sid: 'replication', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'], Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/*`,
        }],
      };
      const put = await ecr<{ registryId: string; policyText: string }>('put-registry-policy', '--policy-text', JSON.stringify(policy));
      assert.equal(put.registryId, ACCOUNT);
      assert.deepEqual(JSON.parse(put.policyText), policy);
      const got = await ecr<{ registryId: string; policyText: string }>('get-registry-policy');
      assert.deepEqual(JSON.parse(got.policyText), policy);
      const del = await ecr<{ policyText: string }>('delete-registry-policy');
      assert.deepEqual(JSON.parse(del.policyText), policy);
      const { name } = await cliError('get-registry-policy');
      assert.equal(name, 'RegistryPolicyNotFoundException');
    });

    it('describe-registry names the account and an empty replication configuration', async () => {
      const out = await ecr<{ registryId: string; replicationConfiguration: { rules: unknown[] } }>('describe-registry');
      assert.deepEqual(out, { registryId: ACCOUNT, replicationConfiguration: { rules: [] } });
    });

    it('get-account-setting answers the default, put-account-setting changes it, and an unknown value is refused', async () => {
      assert.deepEqual(await ecr('get-account-setting', '--name', 'BASIC_SCAN_TYPE_VERSION'), { name: 'BASIC_SCAN_TYPE_VERSION', value: 'AWS_NATIVE' });
      assert.deepEqual(await ecr('put-account-setting', '--name', 'BASIC_SCAN_TYPE_VERSION', '--value', 'CLAIR'), { name: 'BASIC_SCAN_TYPE_VERSION', value: 'CLAIR' });
      assert.deepEqual(await ecr('get-account-setting', '--name', 'BASIC_SCAN_TYPE_VERSION'), { name: 'BASIC_SCAN_TYPE_VERSION', value: 'CLAIR' });
      const { name, stderr } = await cliError('put-account-setting', '--name', 'BASIC_SCAN_TYPE_VERSION', '--value', 'SOMETHING_ELSE');
      assert.ok(name === 'InvalidParameterException' || name === 'ValidationException', stderr);
    });
  });

  describe('errors', () => {
    it('an operation berth does not implement answers an error naming it (describe-pull-through-cache-rules)', async () => {
      const { name, stderr } = await cliError('describe-pull-through-cache-rules');
      assert.equal(name, 'UnsupportedOperationException');
      assert.match(stderr, /DescribePullThroughCacheRules/);
    });

    it('a repository that does not exist answers RepositoryNotFoundException naming it', async () => {
      for (const args of [['describe-repositories', '--repository-names', 'cli/nope'], ['list-images', '--repository-name', 'cli/nope'], ['describe-images', '--repository-name', 'cli/nope']]) {
        const { name, stderr } = await cliError(...args);
        assert.equal(name, 'RepositoryNotFoundException', stderr);
        assert.match(stderr, /cli\/nope/);
      }
    });

    it('an invalid repository name answers InvalidParameterException naming repositoryName, as ECR does', async () => {
      const { name, stderr } = await cliError('create-repository', '--repository-name', 'Bad_Name!');
      assert.equal(name, 'InvalidParameterException', stderr);
      assert.match(stderr, /repositoryName/);
    });

    it('a nextToken berth never issued answers InvalidParameterException, not a silently empty page', async () => {
      await ecr('create-repository', '--repository-name', 'cli/tokens');
      for (const args of [['list-images', '--repository-name', 'cli/tokens'], ['describe-images', '--repository-name', 'cli/tokens'], ['describe-repositories']]) {
        const r = await cli(...args, '--next-token', 'zzz', '--max-results', '2');
        assert.notEqual(r.code, 0, `${args[0]} accepted a forged token:\n${r.stdout}`);
        assert.equal(cliErrorName(r), 'InvalidParameterException', describeRun(r, server));
      }
    });

    it('--max-results 0 is refused naming maxResults, by the CLI and, with its validation off, by berth', async () => {
      const local = await cli('describe-repositories', '--max-results', '0');
      assert.notEqual(local.code, 0);
      assert.match(local.stderr, /maxResults/);
      // parameter_validation = false makes botocore send what it is given, so berth's own check answers.
      const config = join(files, 'no-validation.config');
      await writeFile(config, '[default]\nparameter_validation = false\n');
      const r = await awsCli(server, ['ecr', 'describe-repositories', '--max-results', '0'], { configFile: config });
      assert.notEqual(r.code, 0, describeRun(r, server));
      assert.equal(cliErrorName(r), 'InvalidParameterException', describeRun(r, server));
      assert.match(r.stderr, /maxResults/);
    });
  });
});
