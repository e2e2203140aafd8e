/**
 * Issue 6, findings 9 and 11–15, as a user of the real `aws ecr …` CLI sees them: the CLI prints
 * "An error occurred (<Exception>) when calling the <Operation> operation: <message>", and those are
 * the lines people paste into issue trackers — so each is checked whole, as Amazon ECR words it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCli, awsJson, uploadBlobWithEcrApi } from './aws-helpers.js';
import { BerthServer, describeRun, toolSkipReason } from './harness.js';

const skip = await toolSkipReason('aws');
const ACCOUNT = '000000000000';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const ECR_NAME_PATTERN = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';
const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('aws ecr CLI: ECR exception names and wording', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let files: string;
  const ecr = <T = Record<string, unknown>>(...args: string[]) => awsJson<T>(server, ['ecr', ...args]);

  /** The CLI's error line for a call that must fail. */
  async function errorLine(args: string[], configFile?: string): Promise<string> {
    const r = await awsCli(server, ['ecr', ...args], configFile ? { configFile } : {});
    assert.notEqual(r.code, 0, `expected the call to fail\n${describeRun(r, server)}`);
    const line = r.stderr.split('\n').find((l) => l.startsWith('An error occurred'));
    assert.ok(line, describeRun(r, server));
    return line.trim();
  }

  /** A file holding `text` (for --image-manifest / --policy-text file://…). */
  async function file(text: string): Promise<string> {
    const path = join(files, `f-${randomBytes(4).toString('hex')}.json`);
    await writeFile(path, text);
    return `file://${path}`;
  }

  /** Uploads a config and a layer with the layer API; returns a manifest over them. */
  async function uploadImage(repositoryName: string, withMediaType = true): Promise<{ text: string; digest: string }> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }));
    const layer = randomBytes(700);
    await uploadBlobWithEcrApi(server.ecr, repositoryName, config, sha256(config));
    await uploadBlobWithEcrApi(server.ecr, repositoryName, layer, sha256(layer));
    const text = JSON.stringify({
      schemaVersion: 2, ...(withMediaType ? { mediaType: OCI_MANIFEST } : {}),
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    });
    return { text, digest: sha256(text) };
  }

  before(async () => {
    server = await BerthServer.start();
    files = join(server.workDir, 'exact');
    await mkdir(files, { recursive: true });
    await ecr('create-repository', '--repository-name', 'exact/cli');
  });
  after(async () => {
    await server?.dispose();
  });

  it('create-repository with an invalid name: InvalidParameterException quoting ECR\'s name pattern', async () => {
    assert.equal(await errorLine(['create-repository', '--repository-name', 'Organization/repo-name']),
      `An error occurred (InvalidParameterException) when calling the CreateRepository operation: Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${ECR_NAME_PATTERN}''`);
  });

  it('create-repository with a one-letter name (past botocore\'s own check): must have length greater than or equal to 2', async () => {
    const config = join(files, 'no-validation.config');
    await writeFile(config, '[default]\nparameter_validation = false\n');
    assert.equal(await errorLine(['create-repository', '--repository-name', 'a'], config),
      "An error occurred (InvalidParameterException) when calling the CreateRepository operation: Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'");
  });

  it('put-image-tag-mutability with an unknown value: the enum value set', async () => {
    assert.equal(await errorLine(['put-image-tag-mutability', '--repository-name', 'exact/cli', '--image-tag-mutability', 'invalid']),
      "An error occurred (InvalidParameterException) when calling the PutImageTagMutability operation: Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'");
  });

  it('put-image of a manifest without mediaType and without --image-manifest-media-type: Invalid JSON syntax; with it, stored', async () => {
    const image = await uploadImage('exact/cli', false);
    const manifest = await file(image.text);
    assert.equal(await errorLine(['put-image', '--repository-name', 'exact/cli', '--image-tag', 'bare', '--image-manifest', manifest]),
      "An error occurred (InvalidParameterException) when calling the PutImage operation: Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
    const out = await ecr<{ image: { imageId: { imageDigest: string } } }>('put-image', '--repository-name', 'exact/cli', '--image-tag', 'bare',
      '--image-manifest', manifest, '--image-manifest-media-type', OCI_MANIFEST);
    assert.equal(out.image.imageId.imageDigest, image.digest);
  });

  it('put-image of the same manifest under the same tag twice: ImageAlreadyExistsException naming the registry', async () => {
    const image = await uploadImage('exact/cli');
    const manifest = await file(image.text);
    await ecr('put-image', '--repository-name', 'exact/cli', '--image-tag', 'twice', '--image-manifest', manifest);
    assert.equal(await errorLine(['put-image', '--repository-name', 'exact/cli', '--image-tag', 'twice', '--image-manifest', manifest]),
      `An error occurred (ImageAlreadyExistsException) when calling the PutImage operation: Image with digest '${image.digest}' and tag 'twice' already exists in the repository with name 'exact/cli' in registry with id '${ACCOUNT}'`);
  });

  it('put-image of a manifest list whose images are missing: ReferencedImagesNotFoundException', async () => {
    const child = await uploadImage('exact/cli');
    const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.text.length }] });
    const line = await errorLine(['put-image', '--repository-name', 'exact/cli', '--image-tag', 'multi', '--image-manifest', await file(index)]);
    assert.ok(line.startsWith('An error occurred (ReferencedImagesNotFoundException) when calling the PutImage operation: '), line);
    assert.ok(line.includes(child.digest) && line.endsWith(`in the registry with id '${ACCOUNT}'`), line);
  });

  it('describe-images lists images in push order and each image\'s tags in the order they were applied', async () => {
    await ecr('create-repository', '--repository-name', 'exact/order');
    const digests: string[] = [];
    for (const tags of [['v1', 'latest'], ['zeta'], ['alpha']]) {
      const image = await uploadImage('exact/order');
      const manifest = await file(image.text);
      for (const tag of tags) await ecr('put-image', '--repository-name', 'exact/order', '--image-tag', tag, '--image-manifest', manifest);
      digests.push(image.digest);
    }
    const out = await ecr<{ imageDetails: { imageDigest: string; imageTags: string[] }[] }>('describe-images', '--repository-name', 'exact/order');
    assert.deepEqual(out.imageDetails.map((d) => [d.imageDigest, d.imageTags]), [[digests[0], ['v1', 'latest']], [digests[1], ['zeta']], [digests[2], ['alpha']]]);
  });

  it('set-repository-policy accepts repeated Sids; put-registry-policy under scope V1 refuses an image read', async () => {
    const statement = (action: string) => ({ Sid: 'dup', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: action });
    const repoPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [statement('ecr:BatchGetImage'), statement('ecr:ListImages')] });
    const set = await ecr<{ policyText: string }>('set-repository-policy', '--repository-name', 'exact/cli', '--policy-text', await file(repoPolicy));
    assert.equal(set.policyText, repoPolicy);
    await ecr('put-account-setting', '--name', 'REGISTRY_POLICY_SCOPE', '--value', 'V1');
    const registryPolicy = await file(JSON.stringify({ Version: '2012-10-17', Statement: [statement('ecr:BatchGetImage')] }));
    const line = await errorLine(['put-registry-policy', '--policy-text', registryPolicy]);
    assert.ok(line.startsWith("An error occurred (InvalidParameterException) when calling the PutRegistryPolicy operation: Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'"), line);
    await ecr('put-registry-policy', '--policy-text', await file(JSON.stringify({ Version: '2012-10-17', Statement: [statement('ecr:ReplicateImage')] })));
  });
});
