/**
 * The `aws ecr-public` CLI against berth over all 23 operations, the way a user types them
 * (JSON in, JSON out; blobs as fileb://, manifests as file://).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImageLayout, layoutBlobPath } from '../fixtures/oci-image.js';
import { awsCli, awsJson, cliErrorName } from './aws-helpers.js';
import { BerthServer, toolSkipReason } from './harness.js';

const awsSkip = await toolSkipReason('aws');
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082', 'hex');

// Every aws CLI call is a Python start: on the shared, loaded 2-core machine one takes 5-60 s.
describe('aws ecr-public CLI, all 23 operations', { timeout: 900_000, skip: awsSkip ?? false }, () => {
  let server: BerthServer;
  const seen = new Set<string>();
  const ep = (op: string, args: string[] = []) => {
    seen.add(op);
    return awsJson(server, ['ecr-public', op, '--region', 'us-east-1', ...args]);
  };
  const epJson = <T>(op: string, args: string[] = []) => ep(op, args) as unknown as Promise<T>;

  before(async () => {
    server = await BerthServer.start({ env: { BERTH_PUBLIC_ALIAS: 'clidemo' } });
  });
  after(async () => {
    await server?.dispose();
  });

  it('registry: describe-registries, put/get-registry-catalog-data, get-authorization-token, get-login-password', async () => {
    const regs = await epJson<{ registries: { registryUri: string; aliases: { name: string }[] }[] }>('describe-registries');
    assert.equal(regs.registries[0]?.registryUri, `${server.host}/clidemo`);
    assert.equal(regs.registries[0]?.aliases[0]?.name, 'clidemo');
    await ep('put-registry-catalog-data', ['--display-name', 'CLI Demo']);
    assert.equal((await epJson<{ registryCatalogData: { displayName: string } }>('get-registry-catalog-data')).registryCatalogData.displayName, 'CLI Demo');
    const tok = await epJson<{ authorizationData: { authorizationToken: string } }>('get-authorization-token');
    assert.match(Buffer.from(tok.authorizationData.authorizationToken, 'base64').toString('utf8'), /^AWS:b1\./);
    const pw = await awsCli(server, ['ecr-public', 'get-login-password', '--region', 'us-east-1']);
    assert.equal(pw.code, 0, pw.stderr);
    assert.match(pw.stdout.trim(), /^b1\./);
  });

  // CLI v1 sends a blob nested in JSON as the text's own bytes (no base64 decoding), so logos are
  // proven with the SDK (ecr-public-sdk.test.ts); here the CLI's text is refused for not being an image.
  it('repositories: create, describe, catalog data, policies, tags', async () => {
    const created = await epJson<{ repository: { repositoryUri: string }; catalogData: { description: string } }>('create-repository', [
      '--repository-name', 'cli/app', '--tags', 'Key=team,Value=a',
      '--catalog-data', JSON.stringify({ description: 'from the CLI', architectures: ['x86-64'], operatingSystems: ['Linux'] }),
    ]);
    assert.equal(created.repository.repositoryUri, `${server.host}/clidemo/cli/app`);
    assert.equal(created.catalogData.description, 'from the CLI');
    const notImage = await awsCli(server, ['ecr-public', 'put-repository-catalog-data', '--region', 'us-east-1', '--repository-name', 'cli/app', '--catalog-data', JSON.stringify({ logoImageBlob: PNG.toString('base64') })]);
    assert.equal(cliErrorName(notImage), 'InvalidParameterException');
    const listed = await epJson<{ repositories: { repositoryName: string }[] }>('describe-repositories');
    assert.deepEqual(listed.repositories.map((r) => r.repositoryName), ['cli/app']);
    await ep('put-repository-catalog-data', ['--repository-name', 'cli/app', '--catalog-data', JSON.stringify({ aboutText: '# About', usageText: 'use it' })]);
    const cat = await epJson<{ catalogData: { description: string; aboutText: string } }>('get-repository-catalog-data', ['--repository-name', 'cli/app']);
    assert.equal(cat.catalogData.description, 'from the CLI');
    assert.equal(cat.catalogData.aboutText, '# About');
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr-public:DescribeImages' }] });
    await ep('set-repository-policy', ['--repository-name', 'cli/app', '--policy-text', policy]);
    assert.equal((await epJson<{ policyText: string }>('get-repository-policy', ['--repository-name', 'cli/app'])).policyText, policy);
    await ep('delete-repository-policy', ['--repository-name', 'cli/app']);
    const gone = await awsCli(server, ['ecr-public', 'get-repository-policy', '--region', 'us-east-1', '--repository-name', 'cli/app']);
    assert.equal(cliErrorName(gone), 'RepositoryPolicyNotFoundException');
    const arn = 'arn:aws:ecr-public::000000000000:repository/cli/app';
    await ep('tag-resource', ['--resource-arn', arn, '--tags', 'Key=env,Value=prod']);
    await ep('untag-resource', ['--resource-arn', arn, '--tag-keys', 'team']);
    assert.deepEqual((await epJson<{ tags: unknown[] }>('list-tags-for-resource', ['--resource-arn', arn])).tags, [{ Key: 'env', Value: 'prod' }]);
  });

  it('images: the layer API, put-image, describe-images, describe-image-tags, batch-delete-image, delete-repository', async () => {
    const image = await buildImageLayout(join(server.workDir, 'cli-image'), { layers: 1 });
    for (const d of [...image.layers, image.config]) {
      const check = await epJson<{ layers: { layerAvailability: string }[] }>('batch-check-layer-availability', ['--repository-name', 'cli/app', '--layer-digests', d.digest]);
      assert.equal(check.layers[0]?.layerAvailability, 'UNAVAILABLE');
      const { uploadId } = await epJson<{ uploadId: string }>('initiate-layer-upload', ['--repository-name', 'cli/app']);
      await ep('upload-layer-part', ['--repository-name', 'cli/app', '--upload-id', uploadId, '--part-first-byte', '0', '--part-last-byte', String(d.size - 1), '--layer-part-blob', `fileb://${layoutBlobPath(image.dir, d.digest)}`]);
      const done = await epJson<{ layerDigest: string }>('complete-layer-upload', ['--repository-name', 'cli/app', '--upload-id', uploadId, '--layer-digests', d.digest]);
      assert.equal(done.layerDigest, d.digest);
    }
    const manifestFile = join(server.workDir, 'manifest.json');
    await writeFile(manifestFile, image.manifestBytes);
    const put = await epJson<{ image: { imageId: { imageDigest: string } } }>('put-image', ['--repository-name', 'cli/app', '--image-tag', 'v1', '--image-manifest', `file://${manifestFile}`]);
    const images = await epJson<{ imageDetails: { imageDigest: string; imageTags: string[] }[] }>('describe-images', ['--repository-name', 'cli/app']);
    assert.equal(images.imageDetails[0]?.imageDigest, put.image.imageId.imageDigest);
    assert.deepEqual(images.imageDetails[0]?.imageTags, ['v1']);
    const tags = await epJson<{ imageTagDetails: { imageTag: string }[] }>('describe-image-tags', ['--repository-name', 'cli/app']);
    assert.equal(tags.imageTagDetails[0]?.imageTag, 'v1');
    const del = await epJson<{ imageIds: unknown[] }>('batch-delete-image', ['--repository-name', 'cli/app', '--image-ids', 'imageTag=v1']);
    assert.equal(del.imageIds.length, 1);
    await ep('delete-repository', ['--repository-name', 'cli/app', '--force']);
    const after = await awsCli(server, ['ecr-public', 'describe-repositories', '--region', 'us-east-1', '--repository-names', 'cli/app']);
    assert.equal(cliErrorName(after), 'RepositoryNotFoundException');
  });

  it('touched every ECR Public operation', () => {
    assert.equal(seen.size, 23, [...seen].sort().join(' '));
  });
});
