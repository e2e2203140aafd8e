/**
 * IAM login profiles with the real clients: `aws iam create-login-profile`, and the SDK's
 * Get/Update/DeleteLoginProfile and ChangePassword; a password is stored only as a scrypt hash, and
 * what was set is what signs in to the console.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ChangePasswordCommand, CreateAccessKeyCommand, DeleteLoginProfileCommand, GetLoginProfileCommand, PutUserPolicyCommand, UpdateLoginProfileCommand, CreateUserCommand,
} from '@aws-sdk/client-iam';
import { awsCli, awsJson, cliErrorName, iamClient, rejection } from './aws-helpers.js';
import { BerthServer, toolSkipReason } from './harness.js';

const awsSkip = await toolSkipReason('aws');

describe('IAM login profiles', { timeout: 180_000, skip: awsSkip ?? false }, () => {
  let server: BerthServer;
  before(async () => {
    server = await BerthServer.start();
  });
  after(async () => {
    await server?.dispose();
  });

  /** Console sign-in as a form post (CSRF token and cookie from the sign-in page): the redirect target tells success. */
  async function consoleSignIn(userName: string, password: string): Promise<number> {
    const page = await fetch(`${server.url}/ui/login`);
    const cookie = (page.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const res = await fetch(`${server.url}/ui/login`, {
      method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, accountId: '000000000000', userName, password }).toString(),
    });
    await res.arrayBuffer();
    return res.status;
  }

  it('create (CLI), get, update, change password, delete; the policy is enforced; the console accepts exactly the current password', async () => {
    const iam = iamClient(server, server.rootKey);
    await iam.send(new CreateUserCommand({ UserName: 'dev' }));
    const short = await awsCli(server, ['iam', 'create-login-profile', '--user-name', 'dev', '--password', 'short']);
    assert.equal(cliErrorName(short), 'PasswordPolicyViolation');
    const created = await awsJson<{ LoginProfile: { UserName: string; PasswordResetRequired: boolean } }>(server, ['iam', 'create-login-profile', '--user-name', 'dev', '--password', 'first-password-1']);
    assert.equal(created.LoginProfile.UserName, 'dev');
    assert.equal((await rejection(iam.send(new GetLoginProfileCommand({ UserName: 'nobody' })))).name, 'NoSuchEntityException');
    assert.equal((await iam.send(new GetLoginProfileCommand({ UserName: 'dev' }))).LoginProfile?.PasswordResetRequired, false);
    assert.equal(await consoleSignIn('dev', 'first-password-1'), 303);
    assert.equal(await consoleSignIn('dev', 'wrong-password'), 401);

    await iam.send(new UpdateLoginProfileCommand({ UserName: 'dev', Password: 'second-password-2', PasswordResetRequired: true }));
    assert.equal((await iam.send(new GetLoginProfileCommand({ UserName: 'dev' }))).LoginProfile?.PasswordResetRequired, true);
    assert.equal(await consoleSignIn('dev', 'first-password-1'), 401);

    await iam.send(new PutUserPolicyCommand({ UserName: 'dev', PolicyName: 'self', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:ChangePassword', Resource: 'arn:aws:iam::000000000000:user/dev' }] }) }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'dev' }));
    const dev = iamClient(server, { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
    assert.match((await rejection(dev.send(new ChangePasswordCommand({ OldPassword: 'not-it-at-all', NewPassword: 'third-password-3' })))).message, /old password you specified is not correct/);
    await dev.send(new ChangePasswordCommand({ OldPassword: 'second-password-2', NewPassword: 'third-password-3' }));
    assert.equal(await consoleSignIn('dev', 'third-password-3'), 303);

    await iam.send(new DeleteLoginProfileCommand({ UserName: 'dev' }));
    assert.equal((await rejection(iam.send(new GetLoginProfileCommand({ UserName: 'dev' })))).name, 'NoSuchEntityException');
    assert.equal(await consoleSignIn('dev', 'third-password-3'), 401);
    dev.destroy();
    iam.destroy();
  });

  it('no password reaches the data directory in plaintext', async () => {
    const db = await readFile(join(server.dataDir, 'meta.db')).catch(() => Buffer.alloc(0));
    const wal = await readFile(join(server.dataDir, 'meta.db-wal')).catch(() => Buffer.alloc(0));
    for (const pw of ['first-password-1', 'second-password-2', 'third-password-3']) {
      assert.equal(db.includes(pw) || wal.includes(pw), false, pw);
    }
    assert.doesNotMatch(server.log(), /password-\d/);
  });
});
