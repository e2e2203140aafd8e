/**
 * IAM in action with real clients: the root creates users, policies and keys with
 * `@aws-sdk/client-iam`; each user then works with its own SDK clients, its own ECR authorization
 * token and skopeo. Proves the one decision point (explicit Deny > Allow > implicit deny over
 * identity, repository and registry policies) on both the ECR API and `/v2`, and that SigV4 refuses
 * wrong secrets, tampered signatures, stale requests and deactivated keys.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BatchGetImageCommand, CreateRepositoryCommand, DescribeRepositoriesCommand, GetDownloadUrlForLayerCommand, ListImagesCommand,
  PutImageCommand, SetRepositoryPolicyCommand, type ECRClient,
} from '@aws-sdk/client-ecr';
import {
  AddUserToGroupCommand, AttachGroupPolicyCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateGroupCommand, CreateUserCommand, DeleteAccessKeyCommand, DeleteUserPolicyCommand, ListUsersCommand,
  PutUserPolicyCommand, RemoveUserFromGroupCommand, UpdateAccessKeyCommand, type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { buildImageLayout } from '../fixtures/oci-image.js';
import {
  basicAuth, ecrClient, iamClient, loginPassword, pushImageWithEcrApi, rawPost, rejection, signedEcrPost, signedHeaders, stsClient,
  type AwsKeys, type EcrPushed,
} from './aws-helpers.js';
import { BerthServer, describeRun, expectOk, run, toolSkipReason } from './harness.js';

const ACCOUNT = '000000000000';
const repoArn = (name: string) => `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${name}`;
const READ_ONLY = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';

describe('IAM users, policies and keys against berth', { timeout: 600_000 }, () => {
  let server: BerthServer;
  let rootIam: IAMClient;
  let root: AwsKeys;
  const images: Record<string, EcrPushed> = {};
  const clients: { destroy(): void }[] = [];
  const ecrAs = (keys: AwsKeys, extra: { systemClockOffset?: number } = {}): ECRClient => {
    const c = ecrClient(server, keys, extra);
    clients.push(c);
    return c;
  };

  /** A user with `managed` attached, `inline` inline policies, and a fresh access key. */
  async function makeUser(name: string, managed: string[] = [], inline: Record<string, object> = {}): Promise<AwsKeys> {
    await rootIam.send(new CreateUserCommand({ UserName: name }));
    for (const PolicyArn of managed) await rootIam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn }));
    for (const [PolicyName, doc] of Object.entries(inline)) await rootIam.send(new PutUserPolicyCommand({ UserName: name, PolicyName, PolicyDocument: JSON.stringify(doc) }));
    const { AccessKey } = await rootIam.send(new CreateAccessKeyCommand({ UserName: name }));
    assert.ok(AccessKey?.AccessKeyId && AccessKey.SecretAccessKey);
    return { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
  }

  /** GET the manifest and its first layer over `/v2` with `password`; resolves with both statuses. */
  async function pullStatus(repo: string, password: string): Promise<[number, number]> {
    const image = images[repo]!;
    const headers = { authorization: basicAuth(password), accept: image.manifest.mediaType };
    const m = await server.fetch(`/v2/${repo}/manifests/v1`, { headers });
    await m.arrayBuffer();
    const b = await server.fetch(`/v2/${repo}/blobs/${image.layers[0]!.digest}`, { headers });
    await b.arrayBuffer();
    return [m.status, b.status];
  }

  /** Starts a `/v2` blob upload with `password`; resolves with the status. */
  async function pushStatus(repo: string, password: string): Promise<number> {
    const res = await server.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { authorization: basicAuth(password) } });
    await res.arrayBuffer();
    return res.status;
  }

  before(async () => {
    server = await BerthServer.start();
    root = { accessKeyId: server.rootKey.accessKeyId, secretAccessKey: server.rootKey.secretAccessKey };
    rootIam = iamClient(server, root);
    clients.push(rootIam);
    for (const repositoryName of ['iam/app', 'iam/other']) {
      await server.ecr.send(new CreateRepositoryCommand({ repositoryName }));
      images[repositoryName] = await pushImageWithEcrApi(server.ecr, server.workDir, repositoryName, 'v1');
    }
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server?.dispose();
  });

  describe('a user with AmazonEC2ContainerRegistryReadOnly', () => {
    let reader: AwsKeys;
    let readerEcr: ECRClient;
    let password = '';

    before(async () => {
      reader = await makeUser('reader', [READ_ONLY]);
      readerEcr = ecrAs(reader);
    });

    it('is who STS GetCallerIdentity says, with its own key', async () => {
      const sts = stsClient(server, reader);
      clients.push(sts);
      const me = await sts.send(new GetCallerIdentityCommand({}));
      assert.equal(me.Arn, `arn:aws:iam::${ACCOUNT}:user/reader`);
      assert.equal(me.Account, ACCOUNT);
    });

    it('can describe repositories, list images and BatchGetImage with its own SDK client', async () => {
      const { repositories } = await readerEcr.send(new DescribeRepositoriesCommand({}));
      assert.deepEqual(repositories?.map((r) => r.repositoryName).sort(), ['iam/app', 'iam/other']);
      const { imageIds } = await readerEcr.send(new ListImagesCommand({ repositoryName: 'iam/app' }));
      assert.deepEqual(imageIds, [{ imageDigest: images['iam/app']!.digest, imageTag: 'v1' }]);
      const got = await readerEcr.send(new BatchGetImageCommand({ repositoryName: 'iam/app', imageIds: [{ imageTag: 'v1' }] }));
      assert.equal(got.images?.[0]?.imageManifest, images['iam/app']!.manifestBytes.toString('utf8'));
    });

    it('gets AccessDeniedException for CreateRepository and PutImage', async () => {
      const create = await rejection(readerEcr.send(new CreateRepositoryCommand({ repositoryName: 'iam/by-reader' })));
      assert.equal(create.name, 'AccessDeniedException', create.message);
      assert.match(create.message, /ecr:CreateRepository/);
      const put = await rejection(readerEcr.send(new PutImageCommand({ repositoryName: 'iam/app', imageTag: 'v2', imageManifest: images['iam/app']!.manifestBytes.toString('utf8') })));
      assert.equal(put.name, 'AccessDeniedException', put.message);
    });

    it('logs in with its own GetAuthorizationToken and pulls over /v2, but a push is denied (403)', async () => {
      password = await loginPassword(readerEcr);
      assert.deepEqual(await pullStatus('iam/app', password), [200, 200]);
      assert.equal(await pushStatus('iam/app', password), 403);
    });

    it('skopeo logged in as the reader copies the image out, and a skopeo push is denied', async (t) => {
      const skip = await toolSkipReason('skopeo');
      if (skip) return t.skip(skip);
      const authFile = join(server.workDir, 'reader-auth.json');
      const env = { REGISTRY_AUTH_FILE: authFile };
      expectOk(await run('skopeo', ['login', '--authfile', authFile, '--tls-verify=false', '--username', 'AWS', '--password-stdin', server.host], { input: password, env }), server);
      const dest = join(server.workDir, 'reader-pull');
      expectOk(await run('skopeo', ['copy', '--src-authfile', authFile, '--src-tls-verify=false', `docker://${server.host}/iam/app:v1`, `oci:${dest}:v1`], { env }), server);
      const fixture = await buildImageLayout(join(server.workDir, 'reader-push'), { layers: 1 });
      const push = await run('skopeo', ['copy', '--dest-authfile', authFile, '--dest-tls-verify=false', `oci:${fixture.dir}:${fixture.refName}`, `docker://${server.host}/iam/app:from-reader`], { env });
      assert.notEqual(push.code, 0, describeRun(push, server));
      assert.match(push.stderr, /denied|forbidden|403/i, describeRun(push, server));
    });

    it('an inline explicit Deny of ecr:BatchGetImage on one repository stops pulls there; the other repository still pulls', async () => {
      await rootIam.send(new PutUserPolicyCommand({
        UserName: 'reader', PolicyName: 'no-app',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: repoArn('iam/app') }] }),
      }));
      const [manifest] = await pullStatus('iam/app', password);
      assert.equal(manifest, 403);
      assert.deepEqual(await pullStatus('iam/other', password), [200, 200]);
      const sdk = await rejection(readerEcr.send(new BatchGetImageCommand({ repositoryName: 'iam/app', imageIds: [{ imageTag: 'v1' }] })));
      assert.equal(sdk.name, 'AccessDeniedException', sdk.message);
      assert.match(sdk.message, /explicit deny/i);
      const other = await readerEcr.send(new BatchGetImageCommand({ repositoryName: 'iam/other', imageIds: [{ imageTag: 'v1' }] }));
      assert.equal(other.images?.length, 1);
    });

    it('deleting the Deny policy lets the pull through again at once', async () => {
      await rootIam.send(new DeleteUserPolicyCommand({ UserName: 'reader', PolicyName: 'no-app' }));
      assert.deepEqual(await pullStatus('iam/app', password), [200, 200]);
    });
  });

  describe('a repository policy naming a user', () => {
    // True cross-account access needs a second account, and berth runs one default account per
    // process with no API to create another yet. This proves the same mechanism inside one
    // account: the user has NO identity policy granting any pull, only the repository policy.
    let outsider: AwsKeys;
    let outsiderEcr: ECRClient;

    before(async () => {
      // GetAuthorizationToken is always granted by identity policy (its resource is "*"), in AWS too.
      outsider = await makeUser('outsider', [], {
        login: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] },
      });
      outsiderEcr = ecrAs(outsider);
    });

    it('without it, the user can pull nothing', async () => {
      const err = await rejection(outsiderEcr.send(new BatchGetImageCommand({ repositoryName: 'iam/other', imageIds: [{ imageTag: 'v1' }] })));
      assert.equal(err.name, 'AccessDeniedException', err.message);
      const password = await loginPassword(outsiderEcr);
      const [manifest] = await pullStatus('iam/other', password);
      assert.equal(manifest, 403);
    });

    it('granting ecr:BatchGetImage and ecr:GetDownloadUrlForLayer to the user ARN lets it pull that repository only', async () => {
      await server.ecr.send(new SetRepositoryPolicyCommand({
        repositoryName: 'iam/other',
        policyText: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{
            Sid: 'outsider-pull', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/outsider` },
            Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          }],
        }),
      }));
      const got = await outsiderEcr.send(new BatchGetImageCommand({ repositoryName: 'iam/other', imageIds: [{ imageTag: 'v1' }] }));
      assert.equal(got.images?.length, 1);
      const url = await outsiderEcr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'iam/other', layerDigest: images['iam/other']!.layers[0]!.digest }));
      assert.match(url.downloadUrl ?? '', /^http/);
      const password = await loginPassword(outsiderEcr);
      assert.deepEqual(await pullStatus('iam/other', password), [200, 200]);
      const [elsewhere] = await pullStatus('iam/app', password);
      assert.equal(elsewhere, 403);
      assert.equal(await pushStatus('iam/other', password), 403);
      const list = await rejection(outsiderEcr.send(new ListImagesCommand({ repositoryName: 'iam/other' })));
      assert.equal(list.name, 'AccessDeniedException', 'the policy did not grant ecr:ListImages');
    });
  });

  describe('a user in a group', () => {
    it('gets the permissions of the policies attached to its group, and loses them when removed from it', async () => {
      await rootIam.send(new CreateGroupCommand({ GroupName: 'readers' }));
      await rootIam.send(new AttachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: READ_ONLY }));
      const keys = await makeUser('grouped');
      const ecr = ecrAs(keys);
      const before = await rejection(ecr.send(new ListImagesCommand({ repositoryName: 'iam/app' })));
      assert.equal(before.name, 'AccessDeniedException');
      await rootIam.send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'grouped' }));
      const { imageIds } = await ecr.send(new ListImagesCommand({ repositoryName: 'iam/app' }));
      assert.equal(imageIds?.length, 1);
      assert.deepEqual(await pullStatus('iam/app', await loginPassword(ecr)), [200, 200]);
      await rootIam.send(new RemoveUserFromGroupCommand({ GroupName: 'readers', UserName: 'grouped' }));
      const removed = await rejection(ecr.send(new ListImagesCommand({ repositoryName: 'iam/app' })));
      assert.equal(removed.name, 'AccessDeniedException');
    });
  });

  describe('a user created with a path', () => {
    it('is matched by a repository policy naming its path-qualified ARN (arn:aws:iam::<acct>:user/team/<name>)', async () => {
      await rootIam.send(new CreateUserCommand({ UserName: 'pathed', Path: '/team/' }));
      const { AccessKey } = await rootIam.send(new CreateAccessKeyCommand({ UserName: 'pathed' }));
      const keys = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
      const sts = stsClient(server, keys);
      clients.push(sts);
      const arn = `arn:aws:iam::${ACCOUNT}:user/team/pathed`;
      assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Arn, arn);
      await server.ecr.send(new CreateRepositoryCommand({ repositoryName: 'iam/pathed' }));
      await server.ecr.send(new SetRepositoryPolicyCommand({
        repositoryName: 'iam/pathed',
        policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: arn }, Action: 'ecr:ListImages' }] }),
      }));
      const ecr = ecrAs(keys);
      const out = await ecr.send(new ListImagesCommand({ repositoryName: 'iam/pathed' })).catch((e: Error) => e);
      assert.ok(!(out instanceof Error), `the policy naming ${arn} did not apply: ${out instanceof Error ? `${out.name}: ${out.message}` : ''}`);
      // And a denial names the caller by the same ARN STS reports.
      const denied = await rejection(ecr.send(new ListImagesCommand({ repositoryName: 'iam/app' })));
      assert.equal(denied.name, 'AccessDeniedException');
      assert.match(denied.message, new RegExp(`User: ${arn} is not authorized`));
    });
  });

  describe('SigV4', () => {
    it('a wrong secret gets InvalidSignatureException from ECR and SignatureDoesNotMatch from IAM and STS', async () => {
      const wrong = { accessKeyId: root.accessKeyId, secretAccessKey: `${root.secretAccessKey.slice(0, -1)}${root.secretAccessKey.endsWith('A') ? 'B' : 'A'}` };
      const e = await rejection(ecrAs(wrong).send(new DescribeRepositoriesCommand({})));
      assert.equal(e.name, 'InvalidSignatureException', e.message);
      const iam = iamClient(server, wrong);
      const sts = stsClient(server, wrong);
      clients.push(iam, sts);
      const i = await rejection(iam.send(new ListUsersCommand({})));
      assert.equal(i.name, 'SignatureDoesNotMatch', i.message);
      assert.equal(i.$metadata?.httpStatusCode, 403);
      const s = await rejection(sts.send(new GetCallerIdentityCommand({})));
      assert.equal(s.name, 'SignatureDoesNotMatch', s.message);
    });

    it('an access key id berth never issued gets UnrecognizedClientException (ECR) and InvalidClientTokenId (STS)', async () => {
      const unknown = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: root.secretAccessKey };
      const e = await rejection(ecrAs(unknown).send(new DescribeRepositoriesCommand({})));
      assert.equal(e.name, 'UnrecognizedClientException', e.message);
      const sts = stsClient(server, unknown);
      clients.push(sts);
      const s = await rejection(sts.send(new GetCallerIdentityCommand({})));
      assert.equal(s.name, 'InvalidClientTokenId', s.message);
    });

    it('a tampered signature or a body changed after signing is refused, on ECR and on IAM', async () => {
      const body = '{}';
      const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' };
      const signed = await signedHeaders(server, root, 'ecr', headers, body);
      const good = await rawPost(server, signed, body);
      assert.equal(good.status, 200, good.body);
      const auth = signed.authorization!;
      const flipped = { ...signed, authorization: auth.replace(/Signature=([0-9a-f]+)$/, (_m, sig: string) => `Signature=${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`) };
      assert.notEqual(flipped.authorization, auth);
      for (const [h, b] of [[flipped, body], [signed, '{"maxResults":1}']] as const) {
        const res = await rawPost(server, h, b);
        assert.equal(res.status, 400, res.body);
        assert.equal((JSON.parse(res.body) as { __type: string }).__type, 'InvalidSignatureException');
      }
      const form = 'Action=ListUsers&Version=2010-05-08';
      const iamHeaders = await signedHeaders(server, root, 'iam', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, form);
      assert.equal((await rawPost(server, iamHeaders, form)).status, 200);
      const res = await rawPost(server, iamHeaders, 'Action=ListUsers&Version=2010-05-08&MaxItems=1');
      assert.equal(res.status, 403, res.body);
      assert.match(res.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    });

    it('a request signed with a clock 20 minutes off (SDK systemClockOffset) is refused as expired', async () => {
      for (const offset of [-20 * 60_000, 20 * 60_000]) {
        const e = await rejection(ecrAs(root, { systemClockOffset: offset }).send(new DescribeRepositoriesCommand({})));
        assert.equal(e.name, 'InvalidSignatureException', e.message);
        assert.match(e.message, /expired|Signature/i);
        const iam = iamClient(server, root, { systemClockOffset: offset });
        clients.push(iam);
        const i = await rejection(iam.send(new ListUsersCommand({})));
        assert.equal(i.name, 'SignatureDoesNotMatch', i.message);
      }
      // A raw request signed 20 minutes ago (no SDK clock correction possible) is refused the same way.
      const body = '{}';
      const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' };
      const stale = await rawPost(server, await signedHeaders(server, root, 'ecr', headers, body, new Date(Date.now() - 20 * 60_000)), body);
      assert.equal(stale.status, 400);
      assert.match(stale.body, /Signature expired/);
      // Within the 5-minute window it is accepted.
      const fresh = await rawPost(server, await signedHeaders(server, root, 'ecr', headers, body, new Date(Date.now() - 60_000)), body);
      assert.equal(fresh.status, 200, fresh.body);
    });

    it('a deactivated access key stops working for SigV4 and for registry tokens issued before; reactivating restores both', async () => {
      const keys = await makeUser('temp', [READ_ONLY]);
      const ecr = ecrAs(keys);
      const password = await loginPassword(ecr);
      assert.deepEqual(await pullStatus('iam/app', password), [200, 200]);
      const sts = stsClient(server, keys);
      clients.push(sts);

      await rootIam.send(new UpdateAccessKeyCommand({ UserName: 'temp', AccessKeyId: keys.accessKeyId, Status: 'Inactive' }));
      const e = await rejection(ecr.send(new ListImagesCommand({ repositoryName: 'iam/app' })));
      assert.equal(e.name, 'UnrecognizedClientException', e.message);
      const s = await rejection(sts.send(new GetCallerIdentityCommand({})));
      assert.equal(s.name, 'InvalidClientTokenId', s.message);
      const [manifest] = await pullStatus('iam/app', password);
      assert.equal(manifest, 401);

      await rootIam.send(new UpdateAccessKeyCommand({ UserName: 'temp', AccessKeyId: keys.accessKeyId, Status: 'Active' }));
      assert.deepEqual(await pullStatus('iam/app', password), [200, 200]);
      await ecr.send(new ListImagesCommand({ repositoryName: 'iam/app' }));

      await rootIam.send(new DeleteAccessKeyCommand({ UserName: 'temp', AccessKeyId: keys.accessKeyId }));
      const [afterDelete] = await pullStatus('iam/app', password);
      assert.equal(afterDelete, 401);
      const d = await rejection(ecr.send(new ListImagesCommand({ repositoryName: 'iam/app' })));
      assert.equal(d.name, 'UnrecognizedClientException', d.message);
    });

    it('an ECR request without any signature answers MissingAuthenticationTokenException, an IAM one MissingAuthenticationToken', async () => {
      const ecrRes = await rawPost(server, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' }, '{}');
      assert.equal((JSON.parse(ecrRes.body) as { __type: string }).__type, 'MissingAuthenticationTokenException');
      const iamRes = await rawPost(server, { 'content-type': 'application/x-www-form-urlencoded' }, 'Action=ListUsers&Version=2010-05-08');
      assert.equal(iamRes.status, 403, iamRes.body);
      assert.match(iamRes.body, /<Code>MissingAuthenticationToken<\/Code>/);
      // And a signed ECR call still works, so the refusals above are about the signature only.
      assert.equal((await signedEcrPost(server, root, 'DescribeRepositories', '{}')).status, 200);
    });
  });
});
