/**
 * Two accounts on one berth: account B is added with `berth account create` while the server
 * runs, and B's users reach account A's repositories only where A's repository policy AND B's
 * identity policy both allow it — the cross-account rule of IAM evaluation — over the ECR API,
 * `/v2` with a registry token, and skopeo.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BatchGetImageCommand, CreateRepositoryCommand, DescribeRepositoriesCommand, SetRepositoryPolicyCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { basicAuth, ecrClient, iamClient, loginPassword, pushImageWithEcrApi, rejection, stsClient, type AwsKeys, type EcrPushed } from './aws-helpers.js';
import { BERTH_ARGS, BerthServer, describeRun, expectOk, run, toolSkipReason } from './harness.js';

const A = '000000000000';
const B = '111122223333';

describe('cross-account access between two accounts of one berth', { timeout: 600_000 }, () => {
  let server: BerthServer;
  let rootB: AwsKeys;
  let iamB: IAMClient;
  const clients: { destroy(): void }[] = [];
  const images: Record<string, EcrPushed> = {};
  const track = <T extends { destroy(): void }>(c: T): T => (clients.push(c), c);

  async function userOfB(name: string, identityPolicy?: object): Promise<{ keys: AwsKeys; ecr: ECRClient }> {
    await iamB.send(new CreateUserCommand({ UserName: name }));
    if (identityPolicy) await iamB.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'pull', PolicyDocument: JSON.stringify(identityPolicy) }));
    const { AccessKey } = await iamB.send(new CreateAccessKeyCommand({ UserName: name }));
    const keys = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    return { keys, ecr: track(ecrClient(server, keys)) };
  }

  async function pull(repo: string, password: string): Promise<number> {
    const res = await server.fetch(`/v2/${repo}/manifests/v1`, { headers: { authorization: basicAuth(password), accept: images[repo]!.manifest.mediaType } });
    await res.arrayBuffer();
    return res.status;
  }

  const pullPolicy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: '*' }],
  };

  before(async () => {
    server = await BerthServer.start();
    const created = await run(process.execPath, [...BERTH_ARGS, 'account', 'create', '--account-id', B, '--data-dir', server.dataDir]);
    expectOk(created, server);
    const text = readFileSync(join(server.dataDir, `credentials-${B}`), 'utf8');
    const field = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '';
    rootB = { accessKeyId: field('aws_access_key_id'), secretAccessKey: field('aws_secret_access_key') };
    iamB = track(iamClient(server, rootB));
    for (const repositoryName of ['a/shared', 'a/private']) {
      await server.ecr.send(new CreateRepositoryCommand({ repositoryName }));
      images[repositoryName] = await pushImageWithEcrApi(server.ecr, server.workDir, repositoryName, 'v1');
    }
    await server.ecr.send(new SetRepositoryPolicyCommand({
      repositoryName: 'a/shared',
      policyText: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Sid: 'BPullers', Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${B}:user/puller`, `arn:aws:iam::${B}:user/bare`] }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }],
      }),
    }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server?.dispose();
  });

  it('berth account create adds account B with its own root key, which STS reports as B', async () => {
    const me = await track(stsClient(server, rootB)).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, B);
    assert.equal(me.Arn, `arn:aws:iam::${B}:root`);
  });

  it("account B's root sees none of account A's repositories", async () => {
    const { repositories } = await track(ecrClient(server, rootB)).send(new DescribeRepositoriesCommand({}));
    assert.deepEqual(repositories, []);
  });

  it("a user of B allowed by A's repository policy and by its own identity policy pulls, over the ECR API and /v2", async (t) => {
    const { ecr } = await userOfB('puller', pullPolicy);
    const got = await ecr.send(new BatchGetImageCommand({ registryId: A, repositoryName: 'a/shared', imageIds: [{ imageTag: 'v1' }] }));
    assert.equal(got.images?.[0]?.imageId?.imageDigest, images['a/shared']!.digest);
    const password = await loginPassword(ecr);
    assert.equal(await pull('a/shared', password), 200);
    const skip = await toolSkipReason('skopeo');
    if (skip) t.diagnostic(`skopeo part skipped: ${skip}`);
    else {
      const r = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', `AWS:${password}`, `docker://${server.host}/a/shared:v1`]);
      expectOk(r, server);
      assert.equal(r.stdout, images['a/shared']!.manifestBytes.toString('utf8'), describeRun(r, server));
    }
    // The repository policy names a/shared only: A's other repository stays closed to B.
    assert.equal(await pull('a/private', password), 403);
  });

  it("a user of B named by A's repository policy but without an identity policy of its own is denied: across accounts both sides must allow", async () => {
    const { ecr } = await userOfB('bare', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] });
    const err = await rejection(ecr.send(new BatchGetImageCommand({ registryId: A, repositoryName: 'a/shared', imageIds: [{ imageTag: 'v1' }] })));
    assert.equal(err.name, 'AccessDeniedException');
    assert.equal(await pull('a/shared', await loginPassword(ecr)), 403);
  });

  it("a user of B with a broad identity policy but not named by A's repository policy is denied", async () => {
    const { ecr } = await userOfB('outsider', pullPolicy);
    assert.equal(await pull('a/shared', await loginPassword(ecr)), 403);
  });
});
