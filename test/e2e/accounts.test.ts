/**
 * Each account is its own registry, as on ECR: two accounts (added with `berth account create`)
 * on their own hosts, `<account>.localhost:<port>`, reached through a forward proxy because this
 * machine's resolver does not map `*.localhost` (see docs/accounts.md). podman pushes to one and
 * skopeo to the other under the SAME repository name with different content; each pulls its own;
 * `_catalog` and DescribeRepositories of each show only its own; a cross-account pull works only
 * while both the repository policy and the puller's identity policy allow it; and the aws CLI
 * takes `--registry-id` on every operation that has it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImageLayout, type BuiltImage } from '../fixtures/oci-image.js';
import { AccountHostProxy } from './account-host-proxy.js';
import { accountHost, createAccount, getUrl, hostRequest } from './account-helpers.js';
import { awsCli, awsJson, basicAuth, cliErrorName, Podman, writeCredentialsFile, type AwsKeys } from './aws-helpers.js';
import { BerthServer, describeRun, expectOk, run, toolSkipReason } from './harness.js';

const B = '111111111111';
const C = '222222222222';
const REPO = 'team/app';

const skopeoSkip = await toolSkipReason('skopeo');

describe('every account its own registry on its own host', { timeout: 600_000 }, () => {
  let server: BerthServer;
  let proxy: AccountHostProxy;
  let podman: Podman | string;
  const creds: Record<string, string> = {};
  const keys: Record<string, AwsKeys> = {};
  const passwords: Record<string, string> = {};
  const images: Record<string, BuiltImage> = {};
  /** podman names an image loaded from oci:<dir> after <dir>, and names must be lowercase. */
  const layouts = join(tmpdir(), `berth-accounts-${randomBytes(6).toString('hex')}`);

  const cli = (who: string, args: string[]) => awsCli(server, args, { credentialsFile: creds[who]! });
  const cliJson = <T = Record<string, unknown>>(who: string, args: string[]) => awsJson<T>(server, args, { credentialsFile: creds[who]! });
  const skopeo = (args: string[]) => run('skopeo', args, { env: proxy.env, timeoutMs: 90_000 });
  /** Config digest of `ref` as skopeo reads it with `password` (through the account host). */
  const configDigest = async (ref: string, password: string): Promise<string> => {
    const r = expectOk(await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', `AWS:${password}`, `docker://${ref}`]), server);
    return (JSON.parse(r.stdout) as { config: { digest: string } }).config.digest;
  };
  const catalog = async (account: string, password: string) =>
    (await hostRequest(server, accountHost(server, account), 'GET', '/v2/_catalog', { authorization: basicAuth(password) })).json<{ repositories: string[] }>().repositories;

  before(async () => {
    server = await BerthServer.start();
    proxy = await AccountHostProxy.start();
    await mkdir(layouts, { recursive: true });
    for (const id of [B, C]) {
      const made = await createAccount(server, id);
      creds[id] = made.credentialsFile;
      keys[id] = made.keys;
      passwords[id] = expectOk(await cli(id, ['ecr', 'get-login-password']), server).stdout.trim();
      images[id] = await buildImageLayout(join(layouts, `layout-${id}`), { layers: 2 });
    }
    podman = await Podman.create([accountHost(server, B), accountHost(server, C)]);
  });
  after(async () => {
    if (typeof podman !== 'string') await podman?.dispose();
    await proxy?.close();
    await server?.dispose();
    await rm(layouts, { recursive: true, force: true });
  });

  it('CreateRepository of the same name succeeds in both accounts, each URI naming its account host', async () => {
    for (const id of [B, C]) {
      const out = await cliJson<{ repository: { registryId: string; repositoryUri: string; repositoryArn: string } }>(id, ['ecr', 'create-repository', '--repository-name', REPO, '--registry-id', id]);
      assert.equal(out.repository.registryId, id);
      assert.equal(out.repository.repositoryUri, `${accountHost(server, id)}/${REPO}`);
      assert.equal(out.repository.repositoryArn, `arn:aws:ecr:us-east-1:${id}:repository/${REPO}`);
      await cliJson(id, ['ecr', 'create-repository', '--repository-name', `only/${id}`]);
    }
  });

  it('GetAuthorizationToken names each registry asked for by its own host as proxyEndpoint', async () => {
    const out = await cliJson<{ authorizationData: { proxyEndpoint: string }[] }>(B, ['ecr', 'get-authorization-token', '--registry-ids', B, C]);
    assert.deepEqual(out.authorizationData.map((d) => d.proxyEndpoint), [`http://${accountHost(server, B)}`, `http://${accountHost(server, C)}`]);
  });

  it('podman pushes one image to B and skopeo another to C, under the same name; each pulls its own', async (t) => {
    if (skopeoSkip) return t.skip(skopeoSkip);
    expectOk(await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `AWS:${passwords[C]}`, `oci:${images[C]!.dir}:${images[C]!.refName}`, `docker://${accountHost(server, C)}/${REPO}:v1`]), server);
    if (typeof podman === 'string') {
      t.diagnostic(`podman part replaced by skopeo: ${podman}`);
      expectOk(await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `AWS:${passwords[B]}`, `oci:${images[B]!.dir}:${images[B]!.refName}`, `docker://${accountHost(server, B)}/${REPO}:v1`]), server);
    } else {
      const p = podman;
      const pod = (args: string[], input?: string) => run('podman', [...p.globalArgs, ...args], { env: { ...p.env, ...proxy.env }, timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
      expectOk(await pod(['login', '--tls-verify=false', '-u', 'AWS', '--password-stdin', accountHost(server, B)], passwords[B]), server);
      const loaded = expectOk(await pod(['pull', `oci:${images[B]!.dir}:${images[B]!.refName}`]), server).stdout.trim().split('\n').pop()!.trim();
      expectOk(await pod(['push', '--tls-verify=false', loaded, `docker://${accountHost(server, B)}/${REPO}:v1`]), server);
      expectOk(await pod(['rmi', '-af']), server);
      const pulled = await pod(['pull', '--tls-verify=false', `${accountHost(server, B)}/${REPO}:v1`]);
      expectOk(pulled, server);
      assert.equal(`sha256:${pulled.stdout.trim().split('\n').pop()!.trim()}`, images[B]!.config.digest, describeRun(pulled, server));
    }
    assert.notEqual(images[B]!.config.digest, images[C]!.config.digest);
    assert.equal(await configDigest(`${accountHost(server, B)}/${REPO}:v1`, passwords[B]!), images[B]!.config.digest);
    assert.equal(await configDigest(`${accountHost(server, C)}/${REPO}:v1`, passwords[C]!), images[C]!.config.digest);
  });

  it("_catalog and DescribeRepositories of each account show only its own repositories", async () => {
    assert.deepEqual(await catalog(B, passwords[B]!), [`only/${B}`, REPO]);
    assert.deepEqual(await catalog(C, passwords[C]!), [`only/${C}`, REPO]);
    for (const id of [B, C]) {
      const out = await cliJson<{ repositories: { registryId: string; repositoryName: string }[] }>(id, ['ecr', 'describe-repositories', '--registry-id', id]);
      assert.deepEqual(out.repositories.map((r) => `${r.registryId}/${r.repositoryName}`), [`${id}/only/${id}`, `${id}/${REPO}`]);
    }
    // The default account, on the bare host, has none of them.
    const bare = await server.fetch('/v2/_catalog');
    assert.deepEqual(await bare.json(), { repositories: [] });
  });

  it('a cross-account pull works only while both the repository policy and the identity policy allow it', async (t) => {
    if (skopeoSkip) return t.skip(skopeoSkip);
    expectOk(await cli(C, ['iam', 'create-user', '--user-name', 'puller']), server);
    const key = await cliJson<{ AccessKey: AwsKeys & { AccessKeyId: string; SecretAccessKey: string } }>(C, ['iam', 'create-access-key', '--user-name', 'puller']);
    const pullerFile = await writeCredentialsFile(server, 'puller', { accessKeyId: key.AccessKey.AccessKeyId, secretAccessKey: key.AccessKey.SecretAccessKey });
    const identity = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: '*' }] });
    expectOk(await cli(C, ['iam', 'put-user-policy', '--user-name', 'puller', '--policy-name', 'pull', '--policy-document', identity]), server);
    const pullerPassword = expectOk(await awsCli(server, ['ecr', 'get-login-password'], { credentialsFile: pullerFile }), server).stdout.trim();
    const ref = `docker://${accountHost(server, B)}/${REPO}:v1`;
    const inspect = () => skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', `AWS:${pullerPassword}`, ref]);

    assert.notEqual((await inspect()).code, 0, 'identity policy alone: denied');
    const repoPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'CPuller', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${C}:user/puller` }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }] });
    expectOk(await cli(B, ['ecr', 'set-repository-policy', '--registry-id', B, '--repository-name', REPO, '--policy-text', repoPolicy]), server);
    const allowed = await inspect();
    expectOk(allowed, server);
    assert.equal((JSON.parse(allowed.stdout) as { config: { digest: string } }).config.digest, images[B]!.config.digest);
    const viaCli = await awsJson<{ images: { imageId: { imageTag: string } }[] }>(server, ['ecr', 'batch-get-image', '--registry-id', B, '--repository-name', REPO, '--image-ids', 'imageTag=v1'], { credentialsFile: pullerFile });
    assert.equal(viaCli.images[0]?.imageId.imageTag, 'v1');
    // The same name in the puller's own account is another repository: its content is C's.
    assert.equal(await configDigest(`${accountHost(server, C)}/${REPO}:v1`, passwords[C]!), images[C]!.config.digest);

    expectOk(await cli(C, ['iam', 'delete-user-policy', '--user-name', 'puller', '--policy-name', 'pull']), server);
    // Identity policies are cached for up to 5 s on a node; IAM writes drop the cache at once.
    assert.notEqual((await inspect()).code, 0, 'repository policy alone: denied');
  });

  it('the aws CLI takes --registry-id on every image, layer and policy operation, naming the account', async () => {
    const reg = ['--registry-id', B, '--repository-name', REPO];
    const images = await cliJson<{ imageIds: { imageDigest: string; imageTag?: string }[] }>(B, ['ecr', 'list-images', ...reg]);
    assert.deepEqual(images.imageIds.map((i) => i.imageTag), ['v1']);
    const digest = images.imageIds[0]!.imageDigest;
    const described = await cliJson<{ imageDetails: { registryId: string; repositoryName: string; imageDigest: string }[] }>(B, ['ecr', 'describe-images', ...reg]);
    assert.deepEqual(described.imageDetails.map((d) => [d.registryId, d.repositoryName, d.imageDigest]), [[B, REPO, digest]]);
    const got = await cliJson<{ images: { registryId: string; imageManifest: string }[] }>(B, ['ecr', 'batch-get-image', ...reg, '--image-ids', `imageDigest=${digest}`]);
    assert.equal(got.images[0]?.registryId, B);
    const layer = (JSON.parse(got.images[0]!.imageManifest) as { layers: { digest: string }[] }).layers[0]!.digest;
    const check = await cliJson<{ layers: { layerAvailability: string }[] }>(B, ['ecr', 'batch-check-layer-availability', ...reg, '--layer-digests', layer]);
    assert.equal(check.layers[0]?.layerAvailability, 'AVAILABLE');
    const url = await cliJson<{ downloadUrl: string; layerDigest: string }>(B, ['ecr', 'get-download-url-for-layer', ...reg, '--layer-digest', layer]);
    assert.ok(url.downloadUrl.startsWith(`http://${accountHost(server, B)}/v2/${REPO}/blobs/${layer}?`), url.downloadUrl);
    const downloaded = await getUrl(server, url.downloadUrl);
    assert.equal(downloaded.status, 200);
    // The signature is bound to B's registry: the same path on C's host (same name!) is refused.
    const elsewhere = await getUrl(server, url.downloadUrl.replace(accountHost(server, B), accountHost(server, C)));
    assert.equal(elsewhere.status, 403);
    const policy = await cliJson<{ registryId: string; policyText: string }>(B, ['ecr', 'get-repository-policy', ...reg]);
    assert.equal(policy.registryId, B);
    const mutability = await cliJson<{ registryId: string }>(B, ['ecr', 'put-image-tag-mutability', ...reg, '--image-tag-mutability', 'IMMUTABLE']);
    assert.equal(mutability.registryId, B);
    const scanning = await cliJson<{ registryId: string }>(B, ['ecr', 'put-image-scanning-configuration', ...reg, '--image-scanning-configuration', 'scanOnPush=true']);
    assert.equal(scanning.registryId, B);
    expectOk(await cli(B, ['ecr', 'delete-repository-policy', ...reg]), server);
    const deleted = await cliJson<{ imageIds: unknown[] }>(B, ['ecr', 'batch-delete-image', ...reg, '--image-ids', 'imageTag=v1']);
    assert.equal(deleted.imageIds.length, 1);
    const removed = await cliJson<{ repository: { registryId: string } }>(B, ['ecr', 'delete-repository', ...reg, '--force']);
    assert.equal(removed.repository.registryId, B);
    // C's repository of the same name is untouched.
    const cs = await cliJson<{ repositories: { repositoryName: string }[] }>(C, ['ecr', 'describe-repositories', '--registry-id', C, '--repository-names', REPO]);
    assert.equal(cs.repositories[0]?.repositoryName, REPO);
    const gone = await cli(B, ['ecr', 'describe-repositories', '--registry-id', B, '--repository-names', REPO]);
    assert.equal(cliErrorName(gone), 'RepositoryNotFoundException');
  });
});
