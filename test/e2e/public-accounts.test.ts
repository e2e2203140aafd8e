/**
 * Public repositories under accounts-as-registries (issue 7 on top of issue 6): account B's public
 * repository `<B's alias>/<name>` is pulled anonymously on every host (B's, the default account's,
 * an account that has nothing), while B's private repositories stay on B's host only. Written with
 * the AWS SDKs as account B and raw `/v2` requests that name the host, as account-isolation does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ECRClient, CreateRepositoryCommand as CreatePrivateRepositoryCommand, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { CreateRepositoryCommand, DescribeRegistriesCommand, ECRPUBLICClient } from '@aws-sdk/client-ecr-public';
import { accountHost, createAccount, hostRequest } from './account-helpers.js';
import { REGION, pushImageWithEcrApi, type AwsKeys } from './aws-helpers.js';
import { BerthServer } from './harness.js';

const B = '444455556666';
const NOBODY = '999999999999';
const ACCEPT = { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' };

describe("account B's public repository is found from any host; its private ones stay B's", { timeout: 300_000 }, () => {
  let server: BerthServer;
  let keysB: AwsKeys;
  let ecrB: ECRClient;
  let publicB: ECRPUBLICClient;
  let alias = '';
  let publicDigest = '';
  let privateDigest = '';

  before(async () => {
    server = await BerthServer.start();
    keysB = (await createAccount(server, B)).keys;
    ecrB = new ECRClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { ...keysB } });
    publicB = new ECRPUBLICClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { ...keysB } });
    alias = (await publicB.send(new DescribeRegistriesCommand({}))).registries?.[0]?.aliases?.[0]?.name ?? '';
    assert.ok(alias, 'account B has a public registry alias');
    await publicB.send(new CreateRepositoryCommand({ repositoryName: 'tool', catalogData: { description: "B's tool" } }));
    // The owner pushes through its own ECR API (the stored name is `<alias>/tool` in account B).
    publicDigest = (await pushImageWithEcrApi(ecrB, server.workDir, `${alias}/tool`, 'v1')).digest;
    await ecrB.send(new CreatePrivateRepositoryCommand({ repositoryName: 'secret' }));
    privateDigest = (await pushImageWithEcrApi(ecrB, server.workDir, 'secret', 'v1')).digest;
  });
  after(async () => {
    ecrB?.destroy();
    publicB?.destroy();
    await server?.dispose();
  });

  it('anonymous pulls of the public repository answer its manifest on B\'s host, the bare host and an unrelated account\'s host', async () => {
    for (const host of [accountHost(server, B), `localhost:${server.port}`, accountHost(server, NOBODY)]) {
      const res = await hostRequest(server, host, 'GET', `/v2/${alias}/tool/manifests/v1`, ACCEPT);
      assert.equal(res.status, 200, `${host}: ${res.body.toString('utf8').slice(0, 200)}`);
      assert.equal(res.headers['docker-content-digest'], publicDigest, host);
    }
  });

  it("B's private repository answers 401 anonymously and is not found as B on another account's host", async () => {
    const anonymous = await hostRequest(server, accountHost(server, B), 'GET', '/v2/secret/manifests/v1', ACCEPT);
    assert.equal(anonymous.status, 401);
    const token = (await ecrB.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]?.authorizationToken ?? '';
    const asB = { ...ACCEPT, authorization: `Basic ${token}` };
    const own = await hostRequest(server, accountHost(server, B), 'GET', '/v2/secret/manifests/v1', asB);
    assert.equal(own.status, 200);
    assert.equal(own.headers['docker-content-digest'], privateDigest);
    for (const host of [`localhost:${server.port}`, accountHost(server, NOBODY)]) {
      const elsewhere = await hostRequest(server, host, 'GET', '/v2/secret/manifests/v1', asB);
      assert.notEqual(elsewhere.status, 200, host);
      assert.notEqual(elsewhere.headers['docker-content-digest'], privateDigest, host);
    }
  });

  it('no account can create a private repository inside B\'s alias (the namespace is B\'s on every host)', async () => {
    await assert.rejects(server.ecr.send(new CreatePrivateRepositoryCommand({ repositoryName: `${alias}/other` })), (err: Error) => {
      assert.equal(err.name, 'InvalidParameterException');
      assert.match(err.message, new RegExp(alias));
      return true;
    });
  });
});
