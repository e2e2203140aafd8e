/**
 * `@aws-sdk/client-ecr-public` against berth over all 23 ECR Public operations: registries and
 * aliases, catalog data with logos (checked by their bytes, served as logoUrl), repositories,
 * policies, tags, the layer upload API, PutImage and image descriptions, and the login token that
 * needs both `ecr-public:GetAuthorizationToken` and `sts:GetServiceBearerToken`. Also that public
 * and private repositories cannot be created inside each other's namespace.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BatchCheckLayerAvailabilityCommand, BatchDeleteImageCommand, CompleteLayerUploadCommand, CreateRepositoryCommand,
  DeleteRepositoryCommand, DeleteRepositoryPolicyCommand, DescribeImageTagsCommand, DescribeImagesCommand, DescribeRegistriesCommand,
  DescribeRepositoriesCommand, ECRPUBLICClient, GetAuthorizationTokenCommand, GetRegistryCatalogDataCommand, GetRepositoryCatalogDataCommand,
  GetRepositoryPolicyCommand, InitiateLayerUploadCommand, ListTagsForResourceCommand, PutImageCommand, PutRegistryCatalogDataCommand,
  PutRepositoryCatalogDataCommand, SetRepositoryPolicyCommand, TagResourceCommand, UntagResourceCommand, UploadLayerPartCommand,
} from '@aws-sdk/client-ecr-public';
import { CreateRepositoryCommand as CreatePrivateRepositoryCommand } from '@aws-sdk/client-ecr';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { buildImageLayout, readLayoutBlob } from '../fixtures/oci-image.js';
import { REGION, iamClient, rejection, type AwsKeys } from './aws-helpers.js';
import { BerthServer } from './harness.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082', 'hex')]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 1)]);
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'binary');

describe('ECR Public with @aws-sdk/client-ecr-public', { timeout: 180_000 }, () => {
  let server: BerthServer;
  let client: ECRPUBLICClient;
  const alias = 'sdkdemo';
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const publicClient = (keys: AwsKeys) => new ECRPUBLICClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { ...keys } });

  before(async () => {
    server = await BerthServer.start({ env: { BERTH_PUBLIC_ALIAS: alias } });
    client = publicClient(server.rootKey);
  });
  after(async () => {
    client?.destroy();
    await server?.dispose();
  });

  it('DescribeRegistries answers the account registry with its ACTIVE primary and default alias', async () => {
    const out = await client.send(new DescribeRegistriesCommand({}));
    const reg = out.registries?.[0];
    assert.equal(reg?.registryId, '000000000000');
    assert.equal(reg?.registryUri, `${server.host}/${alias}`);
    assert.deepEqual(reg?.aliases, [{ name: alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }]);
  });

  it('Put/GetRegistryCatalogData keep the display name', async () => {
    await client.send(new PutRegistryCatalogDataCommand({ displayName: 'Demo Corp' }));
    assert.equal((await client.send(new GetRegistryCatalogDataCommand({}))).registryCatalogData?.displayName, 'Demo Corp');
  });

  it('CreateRepository with catalog data and a PNG logo answers a logoUrl berth serves with the same bytes', async () => {
    const out = await client.send(new CreateRepositoryCommand({
      repositoryName: 'tools/app', tags: [{ Key: 'team', Value: 'a' }],
      catalogData: { description: 'An app', aboutText: '# About', usageText: 'run it', architectures: ['ARM 64', 'x86-64'], operatingSystems: ['Linux'], logoImageBlob: PNG },
    }));
    assert.equal(out.repository?.repositoryUri, `${server.host}/${alias}/tools/app`);
    assert.equal(out.repository?.repositoryArn, 'arn:aws:ecr-public::000000000000:repository/tools/app');
    const url = out.catalogData?.logoUrl;
    assert.ok(url?.startsWith(`${server.url}/ui/logos/${alias}/tools/app`), url);
    const res = await fetch(url!);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), PNG);
  });

  it('logos are judged by their bytes: JPEG is taken, GIF and more than 512,000 bytes are InvalidParameterException; nothing is stored', async () => {
    const jpeg = await client.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'tools/app', catalogData: { logoImageBlob: JPEG } }));
    assert.equal((await fetch(jpeg.catalogData!.logoUrl!)).headers.get('content-type'), 'image/jpeg');
    // A GIF fails berth's byte check; an oversized logo already fails the model's length constraint
    // (answered in ECR's style: ECR Public is the same front end).
    for (const [blob, name, re] of [[GIF, 'InvalidParameterException', /PNG or JPEG/], [Buffer.concat([PNG, Buffer.alloc(512_001)]), 'InvalidParameterException', /logoImageBlob.*less than or equal to 512000/]] as const) {
      const err = await rejection(client.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'tools/app', catalogData: { description: 'changed', logoImageBlob: blob } })));
      assert.equal(err.name, name);
      assert.match(err.message, re);
    }
    const err = await rejection(client.send(new CreateRepositoryCommand({ repositoryName: 'gif', catalogData: { logoImageBlob: GIF } })));
    assert.equal(err.name, 'InvalidParameterException');
    assert.equal((await rejection(client.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'gif' })))).name, 'RepositoryNotFoundException');
    const data = (await client.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'tools/app' }))).catalogData;
    assert.equal(data?.description, 'An app');
    assert.deepEqual(data?.architectures, ['ARM 64', 'x86-64']);
    assert.equal(data?.aboutText, '# About');
    assert.equal(data?.usageText, 'run it');
  });

  it('a private repository cannot be created inside the alias, nor a public one over a private name', async () => {
    const err = await rejection(server.ecr.send(new CreatePrivateRepositoryCommand({ repositoryName: `${alias}/sneaky` })));
    assert.equal(err.name, 'InvalidParameterException');
    assert.match(err.message, new RegExp(`'${alias}' is the alias of a public registry`));
    assert.equal((await rejection(client.send(new CreateRepositoryCommand({ repositoryName: 'tools/app' })))).name, 'RepositoryAlreadyExistsException');
  });

  it('DescribeRepositories lists, filters by name and pages; an unknown name is RepositoryNotFoundException', async () => {
    await client.send(new CreateRepositoryCommand({ repositoryName: 'zeta' }));
    const all = await client.send(new DescribeRepositoriesCommand({}));
    assert.deepEqual(all.repositories?.map((r) => r.repositoryName), ['tools/app', 'zeta']);
    const page1 = await client.send(new DescribeRepositoriesCommand({ maxResults: 1 }));
    assert.equal(page1.repositories?.length, 1);
    const page2 = await client.send(new DescribeRepositoriesCommand({ maxResults: 1, nextToken: page1.nextToken }));
    assert.equal(page2.repositories?.[0]?.repositoryName, 'zeta');
    assert.equal((await client.send(new DescribeRepositoriesCommand({ repositoryNames: ['zeta'] }))).repositories?.[0]?.repositoryUri, `${server.host}/${alias}/zeta`);
    assert.equal((await rejection(client.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope'] })))).name, 'RepositoryNotFoundException');
  });

  it('Set/Get/DeleteRepositoryPolicy; a bad policy is InvalidParameterException; none is RepositoryPolicyNotFoundException', async () => {
    const policyText = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: '*', Action: ['ecr-public:DescribeImages'] }] });
    assert.equal((await client.send(new SetRepositoryPolicyCommand({ repositoryName: 'zeta', policyText }))).policyText, policyText);
    assert.equal((await client.send(new GetRepositoryPolicyCommand({ repositoryName: 'zeta' }))).policyText, policyText);
    assert.equal((await client.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'zeta' }))).policyText, policyText);
    assert.equal((await rejection(client.send(new GetRepositoryPolicyCommand({ repositoryName: 'zeta' })))).name, 'RepositoryPolicyNotFoundException');
    assert.equal((await rejection(client.send(new SetRepositoryPolicyCommand({ repositoryName: 'zeta', policyText: '{"nope":1}' })))).name, 'InvalidParameterException');
  });

  it('TagResource, ListTagsForResource and UntagResource on the ecr-public ARN', async () => {
    const resourceArn = 'arn:aws:ecr-public::000000000000:repository/tools/app';
    await client.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'env', Value: 'prod' }] }));
    assert.deepEqual((await client.send(new ListTagsForResourceCommand({ resourceArn }))).tags, [{ Key: 'team', Value: 'a' }, { Key: 'env', Value: 'prod' }]);
    await client.send(new UntagResourceCommand({ resourceArn, tagKeys: ['team'] }));
    assert.deepEqual((await client.send(new ListTagsForResourceCommand({ resourceArn }))).tags, [{ Key: 'env', Value: 'prod' }]);
    assert.equal((await rejection(client.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:ecr:us-east-1:000000000000:repository/x' })))).name, 'InvalidParameterException');
  });

  it('the layer API and PutImage push an image; DescribeImages, DescribeImageTags and BatchDeleteImage see it; anyone pulls it on /v2', async () => {
    const image = await buildImageLayout(join(server.workDir, 'sdk-image'), { layers: 1 });
    for (const d of [...image.layers, image.config]) {
      const bytes = await readLayoutBlob(image.dir, d.digest);
      const check = await client.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: 'tools/app', layerDigests: [d.digest] }));
      assert.equal(check.layers?.[0]?.layerAvailability ?? check.failures?.[0]?.failureCode, 'UNAVAILABLE');
      const { uploadId } = await client.send(new InitiateLayerUploadCommand({ repositoryName: 'tools/app' }));
      await client.send(new UploadLayerPartCommand({ repositoryName: 'tools/app', uploadId, partFirstByte: 0, partLastByte: bytes.length - 1, layerPartBlob: bytes }));
      const done = await client.send(new CompleteLayerUploadCommand({ repositoryName: 'tools/app', uploadId, layerDigests: [d.digest] }));
      assert.equal(done.layerDigest, d.digest);
    }
    const put = await client.send(new PutImageCommand({ repositoryName: 'tools/app', imageManifest: image.manifestBytes.toString('utf8'), imageTag: 'v1', imageManifestMediaType: image.manifest.mediaType }));
    assert.equal(put.image?.imageId?.imageDigest, sha(image.manifestBytes));
    const described = await client.send(new DescribeImagesCommand({ repositoryName: 'tools/app' }));
    assert.deepEqual(described.imageDetails?.[0]?.imageTags, ['v1']);
    assert.ok((described.imageDetails?.[0]?.imageSizeInBytes ?? 0) > 0);
    const tags = await client.send(new DescribeImageTagsCommand({ repositoryName: 'tools/app' }));
    assert.equal(tags.imageTagDetails?.[0]?.imageTag, 'v1');
    assert.equal(tags.imageTagDetails?.[0]?.imageDetail?.imageDigest, put.image?.imageId?.imageDigest);
    // Public pulls need no credentials at all; clients of the token flow come with an anonymous token.
    const anon = await fetch(`${server.url}/v2/${alias}/tools/app/manifests/v1`, { headers: { accept: image.manifest.mediaType } });
    assert.equal(anon.status, 200);
    const { token } = await (await fetch(`${server.url}/token?scope=repository:${alias}/tools/app:pull`)).json() as { token: string };
    const pulled = await fetch(`${server.url}/v2/${alias}/tools/app/manifests/v1`, { headers: { accept: image.manifest.mediaType, authorization: `Bearer ${token}` } });
    assert.equal(pulled.status, 200);
    const del = await client.send(new BatchDeleteImageCommand({ repositoryName: 'tools/app', imageIds: [{ imageTag: 'v1' }] }));
    assert.equal(del.imageIds?.[0]?.imageDigest, put.image?.imageId?.imageDigest);
  });

  it('GetAuthorizationToken answers one authorizationData; a user needs sts:GetServiceBearerToken as well', async () => {
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    assert.match(Buffer.from(out.authorizationData?.authorizationToken ?? '', 'base64').toString('utf8'), /^AWS:b1\./);
    assert.ok(out.authorizationData?.expiresAt instanceof Date);
    const iam = iamClient(server, server.rootKey);
    const keysFor = async (user: string, actions: string[]): Promise<AwsKeys> => {
      await iam.send(new CreateUserCommand({ UserName: user }));
      await iam.send(new PutUserPolicyCommand({ UserName: user, PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] }) }));
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: user }));
      return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    };
    const half = publicClient(await keysFor('half', ['ecr-public:GetAuthorizationToken']));
    const err = await rejection(half.send(new GetAuthorizationTokenCommand({})));
    assert.match(err.message, /sts:GetServiceBearerToken/);
    const both = publicClient(await keysFor('both', ['ecr-public:GetAuthorizationToken', 'sts:GetServiceBearerToken']));
    assert.ok((await both.send(new GetAuthorizationTokenCommand({}))).authorizationData?.authorizationToken);
    const readonly = publicClient(await keysFor('reader', ['ecr-public:Describe*']));
    assert.equal((await rejection(readonly.send(new CreateRepositoryCommand({ repositoryName: 'nope' })))).name, 'AccessDeniedException');
    for (const c of [half, both, readonly]) c.destroy();
    iam.destroy();
  });

  it('DeleteRepository refuses a repository with images unless forced, then it is gone from /v2', async () => {
    const image = await buildImageLayout(join(server.workDir, 'sdk-image-2'), { layers: 1 });
    for (const d of [...image.layers, image.config]) {
      const bytes = await readLayoutBlob(image.dir, d.digest);
      const { uploadId } = await client.send(new InitiateLayerUploadCommand({ repositoryName: 'zeta' }));
      await client.send(new UploadLayerPartCommand({ repositoryName: 'zeta', uploadId, partFirstByte: 0, partLastByte: bytes.length - 1, layerPartBlob: bytes }));
      await client.send(new CompleteLayerUploadCommand({ repositoryName: 'zeta', uploadId, layerDigests: [d.digest] }));
    }
    await client.send(new PutImageCommand({ repositoryName: 'zeta', imageManifest: image.manifestBytes.toString('utf8'), imageTag: 'v1' }));
    assert.equal((await rejection(client.send(new DeleteRepositoryCommand({ repositoryName: 'zeta' })))).name, 'RepositoryNotEmptyException');
    const out = await client.send(new DeleteRepositoryCommand({ repositoryName: 'zeta', force: true }));
    assert.equal(out.repository?.repositoryName, 'zeta');
    assert.equal((await server.fetch(`/v2/${alias}/zeta/tags/list`)).status, 404);
  });
});
