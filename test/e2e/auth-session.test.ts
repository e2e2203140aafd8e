/**
 * STS session credentials end to end with the aws CLI: `aws sts get-session-token`, then the
 * temporary key + `X-Amz-Security-Token` (as `aws_session_token` in the credentials file) work
 * for ECR and for docker-style logins, with the rights of the key they were issued to, and stop
 * working with a wrong token or once that key is deactivated.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCli, awsJson, cliErrorName, writeCredentialsFile, type AwsKeys } from './aws-helpers.js';
import { BerthServer, describeRun } from './harness.js';

interface Session { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string } }

describe('STS session credentials', { timeout: 600_000 }, () => {
  let server: BerthServer;
  let userFile = '';
  let user: AwsKeys;

  async function sessionFile(name: string, c: Session['Credentials'], token = c.SessionToken): Promise<string> {
    const file = join(server.workDir, `${name}-session-credentials`);
    await writeFile(file, `[default]\naws_access_key_id = ${c.AccessKeyId}\naws_secret_access_key = ${c.SecretAccessKey}\naws_session_token = ${token}\nregion = us-east-1\n`, { mode: 0o600 });
    return file;
  }

  before(async () => {
    server = await BerthServer.start();
    await server.ensureRepository('sts/app');
    await awsJson(server, ['iam', 'create-user', '--user-name', 'temp']);
    await awsJson(server, ['iam', 'attach-user-policy', '--user-name', 'temp', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly']);
    const { AccessKey } = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(server, ['iam', 'create-access-key', '--user-name', 'temp']);
    user = { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
    userFile = await writeCredentialsFile(server, 'temp', user);
  });
  after(() => server?.dispose());

  it('get-session-token issues ASIA credentials that act as their user on ECR and /v2', async () => {
    const s = await awsJson<Session>(server, ['sts', 'get-session-token', '--duration-seconds', '900'], { credentialsFile: userFile });
    assert.match(s.Credentials.AccessKeyId, /^ASIA[A-Z2-7]{16}$/);
    const expires = Date.parse(s.Credentials.Expiration) - Date.now();
    assert.ok(expires > 800_000 && expires <= 900_000, `expires in ${expires} ms`);
    const file = await sessionFile('temp', s.Credentials);
    const me = await awsJson<{ Arn: string }>(server, ['sts', 'get-caller-identity'], { credentialsFile: file });
    assert.equal(me.Arn, 'arn:aws:iam::000000000000:user/temp');
    const repos = await awsJson<{ repositories: { repositoryName: string }[] }>(server, ['ecr', 'describe-repositories'], { credentialsFile: file });
    assert.deepEqual(repos.repositories.map((r) => r.repositoryName), ['sts/app']);
    const login = await awsCli(server, ['ecr', 'get-login-password'], { credentialsFile: file });
    assert.equal(login.code, 0, describeRun(login, server));
    const res = await server.fetch('/v2/sts/app/tags/list', { headers: { authorization: `Basic ${Buffer.from(`AWS:${login.stdout.trim()}`).toString('base64')}` } });
    assert.equal(res.status, 200, await res.text());
    // ReadOnly, as its user: no repository creation through the session either.
    const denied = await awsCli(server, ['ecr', 'create-repository', '--repository-name', 'sts/new'], { credentialsFile: file });
    assert.equal(cliErrorName(denied), 'AccessDeniedException', describeRun(denied, server));
  });

  it('a session cannot call IAM or mint another session, as in AWS', async () => {
    const s = await awsJson<Session>(server, ['sts', 'get-session-token'], { credentialsFile: userFile });
    const file = await sessionFile('nested', s.Credentials);
    assert.equal(cliErrorName(await awsCli(server, ['iam', 'list-users'], { credentialsFile: file })), 'AccessDenied');
    assert.equal(cliErrorName(await awsCli(server, ['sts', 'get-session-token'], { credentialsFile: file })), 'AccessDenied');
  });

  it('a wrong or missing session token is refused', async () => {
    const s = await awsJson<Session>(server, ['sts', 'get-session-token'], { credentialsFile: userFile });
    const other = await awsJson<Session>(server, ['sts', 'get-session-token'], { credentialsFile: userFile });
    const swapped = await awsCli(server, ['ecr', 'describe-repositories'], { credentialsFile: await sessionFile('swapped', s.Credentials, other.Credentials.SessionToken) });
    assert.equal(cliErrorName(swapped), 'UnrecognizedClientException', describeRun(swapped, server));
    const bare = await awsCli(server, ['ecr', 'describe-repositories'], {
      credentialsFile: await writeCredentialsFile(server, 'bare', { accessKeyId: s.Credentials.AccessKeyId, secretAccessKey: s.Credentials.SecretAccessKey }),
    });
    assert.equal(cliErrorName(bare), 'UnrecognizedClientException', describeRun(bare, server));
  });

  it('the root may ask for at most one hour; out-of-range durations are a validation error', async () => {
    const root = await awsJson<Session>(server, ['sts', 'get-session-token', '--duration-seconds', '7200']);
    const ms = Date.parse(root.Credentials.Expiration) - Date.now();
    assert.ok(ms <= 3_600_000 && ms > 3_500_000, `root session lasts ${ms} ms`);
    const r = await awsCli(server, ['sts', 'get-session-token', '--duration-seconds', '60'], { credentialsFile: userFile });
    assert.notEqual(r.code, 0, describeRun(r, server));
  });

  it('deactivating the key a session was issued to ends the session', async () => {
    const s = await awsJson<Session>(server, ['sts', 'get-session-token'], { credentialsFile: userFile });
    const file = await sessionFile('revoked', s.Credentials);
    await awsJson(server, ['ecr', 'describe-repositories'], { credentialsFile: file });
    await awsJson(server, ['iam', 'update-access-key', '--user-name', 'temp', '--access-key-id', user.accessKeyId, '--status', 'Inactive']);
    const after = await awsCli(server, ['ecr', 'describe-repositories'], { credentialsFile: file });
    assert.equal(cliErrorName(after), 'UnrecognizedClientException', describeRun(after, server));
  });
});
