/**
 * Regression tests for the black-box review's account findings (issue 6, findings 1, 2 and 10),
 * sent the way the reviewer sent them — the aws CLI signed by account B's root, and raw `/v2`
 * requests with B's registry token — each asserting the safe outcome: B never learns A's names.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accountHost, createAccount, hostRequest } from './account-helpers.js';
import { awsCli, awsJson, basicAuth, cliErrorName, pushImageWithEcrApi } from './aws-helpers.js';
import { BerthServer, expectOk } from './harness.js';

const A = '000000000000';
const B = '444455556666';
const NOBODY = '999999999999';

describe('one account cannot read or take another account\'s repository names', { timeout: 600_000 }, () => {
  let server: BerthServer;
  let credsB = '';
  let passwordB = '';
  const asB = (args: string[]) => awsCli(server, args, { credentialsFile: credsB });

  before(async () => {
    server = await BerthServer.start();
    for (const name of ['probe/private', 'probe/shared']) {
      await server.ensureRepository(name);
      await pushImageWithEcrApi(server.ecr, server.workDir, name, 'latest');
    }
    // A lets B describe (only) probe/shared.
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'BDescribes', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'ecr:DescribeRepositories' }] });
    await awsJson(server, ['ecr', 'set-repository-policy', '--repository-name', 'probe/shared', '--policy-text', policy]);
    credsB = (await createAccount(server, B)).credentialsFile;
    passwordB = expectOk(await asB(['ecr', 'get-login-password']), server).stdout.trim();
  });
  after(async () => {
    await server?.dispose();
  });

  it("finding 1: GET /v2/_catalog with B's token lists none of A's repositories, on A's host or B's", async () => {
    const onA = await server.fetch('/v2/_catalog', { headers: { authorization: basicAuth(passwordB) } });
    assert.equal(onA.status, 200);
    const listed = (await onA.json()) as { repositories: string[] };
    assert.ok(!listed.repositories.includes('probe/private'), JSON.stringify(listed));
    assert.deepEqual(listed, { repositories: ['probe/shared'] }, "only what A's policy lets B describe");
    const onB = await hostRequest(server, accountHost(server, B), 'GET', '/v2/_catalog', { authorization: basicAuth(passwordB) });
    assert.deepEqual(onB.json(), { repositories: [] });
    const own = await server.fetch('/v2/_catalog');
    assert.deepEqual(await own.json(), { repositories: ['probe/private', 'probe/shared'] }, "A's own catalog is complete");
  });

  it("finding 1: DescribeRepositories with A's registryId signed by B answers only what A's policies let B describe", async () => {
    const out = await awsJson<{ repositories: { repositoryName: string; registryId: string }[] }>(server, ['ecr', 'describe-repositories', '--registry-id', A], { credentialsFile: credsB });
    assert.deepEqual(out.repositories.map((r) => `${r.registryId}/${r.repositoryName}`), [`${A}/probe/shared`]);
    const own = await awsJson<{ repositories: unknown[] }>(server, ['ecr', 'describe-repositories'], { credentialsFile: credsB });
    assert.deepEqual(own.repositories, []);
  });

  it("finding 2: B creates probe/private in its own registry although A has one; no word of A's", async () => {
    const r = expectOk(await asB(['ecr', 'create-repository', '--repository-name', 'probe/private']), server);
    const repo = (JSON.parse(r.stdout) as { repository: { registryId: string; repositoryArn: string; repositoryUri: string } }).repository;
    assert.equal(repo.registryId, B);
    assert.equal(repo.repositoryArn, `arn:aws:ecr:us-east-1:${B}:repository/probe/private`);
    assert.equal(repo.repositoryUri, `${accountHost(server, B)}/probe/private`);
    assert.ok(!r.stdout.includes(A) && !r.stderr.includes(A));
    // A's repository of that name is untouched and still A's alone.
    const a = await awsJson<{ imageIds: unknown[] }>(server, ['ecr', 'list-images', '--repository-name', 'probe/private']);
    assert.equal(a.imageIds.length, 1);
  });

  it("finding 10: B cannot create a repository in A's registry, nor in one of an account that does not exist", async () => {
    const inA = await asB(['ecr', 'create-repository', '--registry-id', A, '--repository-name', 'probe/planted']);
    assert.equal(cliErrorName(inA), 'AccessDeniedException', inA.stderr);
    assert.match(inA.stderr, new RegExp(`arn:aws:ecr:us-east-1:${A}:repository/probe/planted`));
    const inNobody = await asB(['ecr', 'create-repository', '--registry-id', NOBODY, '--repository-name', 'probe/planted']);
    assert.equal(cliErrorName(inNobody), 'AccessDeniedException', inNobody.stderr);
    const a = await awsJson<{ repositories: { repositoryName: string }[] }>(server, ['ecr', 'describe-repositories']);
    assert.deepEqual(a.repositories.map((r) => r.repositoryName), ['probe/private', 'probe/shared']);
    // When that account comes into being later, it starts empty: nothing was planted for it.
    const nobody = await createAccount(server, NOBODY);
    const theirs = await awsJson<{ repositories: unknown[] }>(server, ['ecr', 'describe-repositories'], { credentialsFile: nobody.credentialsFile });
    assert.deepEqual(theirs.repositories, []);
  });

  it("no oracle: B's requests for an existing and an absent name of A are refused alike", async () => {
    const same = (a: string, b: string) => assert.equal(a.replaceAll('probe/private', 'X'), b.replaceAll('probe/absent', 'X'));
    for (const op of [
      ['describe-repositories', '--repository-names'],
      ['list-images', '--repository-name'],
      ['get-repository-policy', '--repository-name'],
      ['delete-repository', '--repository-name'],
    ]) {
      const existing = await asB(['ecr', op[0]!, '--registry-id', A, op[1]!, 'probe/private']);
      const absent = await asB(['ecr', op[0]!, '--registry-id', A, op[1]!, 'probe/absent']);
      assert.equal(cliErrorName(existing), 'AccessDeniedException', `${op[0]}: ${existing.stderr}`);
      same(existing.stderr, absent.stderr);
    }
    const auth = { authorization: basicAuth(passwordB), accept: 'application/vnd.oci.image.manifest.v1+json' };
    const existing = await server.fetch('/v2/probe/private/manifests/latest', { headers: auth });
    const absent = await server.fetch('/v2/probe/absent/manifests/latest', { headers: auth });
    assert.equal(existing.status, 403);
    assert.equal(absent.status, existing.status);
    same(await existing.text(), await absent.text());
  });
});
