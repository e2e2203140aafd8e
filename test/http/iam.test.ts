import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, DeleteAccessKeyCommand, DeleteUserCommand, DeleteUserPolicyCommand,
  EntityAlreadyExistsException, GetAccessKeyLastUsedCommand, GetUserCommand, GetUserPolicyCommand, ListAccessKeysCommand,
  ListUserPoliciesCommand, ListUserTagsCommand, ListUsersCommand, MalformedPolicyDocumentException, NoSuchEntityException,
  PutUserPolicyCommand, TagUserCommand, UntagUserCommand, UpdateAccessKeyCommand, paginateListUsers,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ACCOUNT, allow, iamHarness, rejection } from './iam-helpers.js';

const h = iamHarness();

describe('IAM users and access keys over the Query protocol', () => {
  test('root GetCallerIdentity returns the account id as UserId and the root ARN', async () => {
    const id = await h.root.sts.send(new GetCallerIdentityCommand({}));
    assert.deepEqual({ Account: id.Account, Arn: id.Arn, UserId: id.UserId }, { Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:root`, UserId: ACCOUNT });
  });

  test('GetUser without UserName as root describes the root user without a UserName', async () => {
    const { User } = await h.root.iam.send(new GetUserCommand({}));
    assert.equal(User?.Arn, `arn:aws:iam::${ACCOUNT}:root`);
    assert.equal(User?.UserId, ACCOUNT);
    assert.equal(User?.UserName, undefined);
    assert.ok(User?.CreateDate instanceof Date);
  });

  test('a user with only iam:GetUser may identify itself but is denied iam:CreateUser', async () => {
    const created = await h.root.iam.send(new CreateUserCommand({ UserName: 'alice', Tags: [{ Key: 'team', Value: 'infra' }] }));
    assert.equal(created.User?.Arn, `arn:aws:iam::${ACCOUNT}:user/alice`);
    assert.match(created.User?.UserId ?? '', /^AIDA[A-Z2-7]{17}$/);
    assert.deepEqual(created.User?.Tags, [{ Key: 'team', Value: 'infra' }]);
    const { AccessKey } = await h.root.iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    assert.equal(AccessKey?.UserName, 'alice');
    assert.equal(AccessKey?.Status, 'Active');
    assert.equal(AccessKey?.SecretAccessKey?.length, 40);
    const doc = allow('iam:GetUser');
    await h.root.iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'self', PolicyDocument: doc }));

    const alice = h.clients({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
    const me = await alice.sts.send(new GetCallerIdentityCommand({}));
    assert.deepEqual({ Account: me.Account, Arn: me.Arn }, { Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/alice` });
    assert.equal(me.UserId, created.User?.UserId);
    const self = await alice.iam.send(new GetUserCommand({}));
    assert.equal(self.User?.UserName, 'alice');

    const err = await rejection(alice.iam.send(new CreateUserCommand({ UserName: 'mallory' })));
    assert.equal(err.name, 'AccessDenied');
    assert.equal(err.$metadata?.httpStatusCode, 403);
    assert.match(err.message, new RegExp(`User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${ACCOUNT}:user/mallory`));

    // IAM returns inline documents URL-encoded.
    const got = await h.root.iam.send(new GetUserPolicyCommand({ UserName: 'alice', PolicyName: 'self' }));
    assert.equal(got.PolicyDocument, encodeURIComponent(doc));
    assert.equal(decodeURIComponent(got.PolicyDocument!), doc);
    assert.deepEqual((await h.root.iam.send(new ListUserPoliciesCommand({ UserName: 'alice' }))).PolicyNames, ['self']);
    alice.iam.destroy();
    alice.sts.destroy();
  });

  test('CreateUser twice is EntityAlreadyExists in IAM wording; GetUser of a stranger is NoSuchEntity', async () => {
    await h.root.iam.send(new CreateUserCommand({ UserName: 'bob' }));
    const dup = await rejection(h.root.iam.send(new CreateUserCommand({ UserName: 'bob' })));
    assert.ok(dup instanceof EntityAlreadyExistsException);
    assert.equal(dup.message, 'User with name bob already exists.');
    assert.equal(dup.$metadata?.httpStatusCode, 409);
    const missing = await rejection(h.root.iam.send(new GetUserCommand({ UserName: 'nobody' })));
    assert.ok(missing instanceof NoSuchEntityException);
    assert.equal(missing.message, 'The user with name nobody cannot be found.');
  });

  test('an inactive key is refused, reactivated works, last use is recorded, and a third key exceeds the quota', async () => {
    await h.root.iam.send(new CreateUserCommand({ UserName: 'carol' }));
    await h.root.iam.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'p', PolicyDocument: allow('iam:GetUser') }));
    const { AccessKey } = await h.root.iam.send(new CreateAccessKeyCommand({ UserName: 'carol' }));
    const id = AccessKey!.AccessKeyId!;
    const carol = h.clients({ accessKeyId: id, secretAccessKey: AccessKey!.SecretAccessKey! });

    const before = await h.root.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }));
    assert.equal(before.UserName, 'carol');
    assert.equal(before.AccessKeyLastUsed?.LastUsedDate, undefined);

    await h.root.iam.send(new UpdateAccessKeyCommand({ UserName: 'carol', AccessKeyId: id, Status: 'Inactive' }));
    const listed = await h.root.iam.send(new ListAccessKeysCommand({ UserName: 'carol' }));
    assert.deepEqual(listed.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status, k.UserName]), [[id, 'Inactive', 'carol']]);
    assert.equal((await rejection(carol.sts.send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId');

    await h.root.iam.send(new UpdateAccessKeyCommand({ UserName: 'carol', AccessKeyId: id, Status: 'Active' }));
    await carol.iam.send(new GetUserCommand({}));
    // touchAccessKey is fire-and-forget: give it a moment.
    await new Promise((r) => setTimeout(r, 100));
    const afterUse = await h.root.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }));
    assert.ok(afterUse.AccessKeyLastUsed?.LastUsedDate instanceof Date);

    await h.root.iam.send(new CreateAccessKeyCommand({ UserName: 'carol' }));
    const third = await rejection(h.root.iam.send(new CreateAccessKeyCommand({ UserName: 'carol' })));
    assert.equal(third.name, 'LimitExceededException');
    assert.equal(third.message, 'Cannot exceed quota for AccessKeysPerUser: 2');

    const gone = await rejection(h.root.iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: id })));
    assert.equal(gone.name, 'NoSuchEntityException');
    assert.equal(gone.message, `The Access Key with id ${id} cannot be found`);
    carol.iam.destroy();
    carol.sts.destroy();
  });

  test('DeleteUser is refused while the user has access keys or inline policies, then succeeds', async () => {
    await h.root.iam.send(new CreateUserCommand({ UserName: 'dave' }));
    const { AccessKey } = await h.root.iam.send(new CreateAccessKeyCommand({ UserName: 'dave' }));
    await h.root.iam.send(new PutUserPolicyCommand({ UserName: 'dave', PolicyName: 'p', PolicyDocument: allow('iam:GetUser') }));

    const keys = await rejection(h.root.iam.send(new DeleteUserCommand({ UserName: 'dave' })));
    assert.equal(keys.name, 'DeleteConflictException');
    assert.equal(keys.message, 'Cannot delete entity, must delete access keys first.');
    await h.root.iam.send(new DeleteAccessKeyCommand({ UserName: 'dave', AccessKeyId: AccessKey!.AccessKeyId! }));

    const policies = await rejection(h.root.iam.send(new DeleteUserCommand({ UserName: 'dave' })));
    assert.equal(policies.message, 'Cannot delete entity, must delete policies first.');
    await h.root.iam.send(new DeleteUserPolicyCommand({ UserName: 'dave', PolicyName: 'p' }));
    const again = await rejection(h.root.iam.send(new DeleteUserPolicyCommand({ UserName: 'dave', PolicyName: 'p' })));
    assert.equal(again.message, 'The user policy with name p cannot be found.');

    await h.root.iam.send(new DeleteUserCommand({ UserName: 'dave' }));
    assert.ok(await rejection(h.root.iam.send(new GetUserCommand({ UserName: 'dave' }))) instanceof NoSuchEntityException);
  });

  test('TagUser, ListUserTags and UntagUser manage a user\'s tags', async () => {
    await h.root.iam.send(new CreateUserCommand({ UserName: 'erin' }));
    await h.root.iam.send(new TagUserCommand({ UserName: 'erin', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await h.root.iam.send(new TagUserCommand({ UserName: 'erin', Tags: [{ Key: 'a', Value: '3' }] }));
    const page1 = await h.root.iam.send(new ListUserTagsCommand({ UserName: 'erin', MaxItems: 1 }));
    assert.deepEqual(page1.Tags, [{ Key: 'a', Value: '3' }]);
    assert.equal(page1.IsTruncated, true);
    const page2 = await h.root.iam.send(new ListUserTagsCommand({ UserName: 'erin', Marker: page1.Marker }));
    assert.deepEqual(page2.Tags, [{ Key: 'b', Value: '2' }]);
    assert.equal(page2.IsTruncated, false);
    await h.root.iam.send(new UntagUserCommand({ UserName: 'erin', TagKeys: ['a'] }));
    assert.deepEqual((await h.root.iam.send(new GetUserCommand({ UserName: 'erin' }))).User?.Tags, [{ Key: 'b', Value: '2' }]);
  });

  test('ListUsers pages with MaxItems and Marker, and the SDK paginator walks every page', async () => {
    const names = ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e'];
    for (const n of names) await h.root.iam.send(new CreateUserCommand({ UserName: n, Path: '/paged/' }));
    const first = await h.root.iam.send(new ListUsersCommand({ PathPrefix: '/paged/', MaxItems: 2 }));
    assert.deepEqual(first.Users?.map((u) => u.UserName), ['pg-a', 'pg-b']);
    assert.equal(first.IsTruncated, true);
    assert.ok(first.Marker);
    assert.equal(first.Users?.[0]?.Arn, `arn:aws:iam::${ACCOUNT}:user/paged/pg-a`);
    const second = await h.root.iam.send(new ListUsersCommand({ PathPrefix: '/paged/', MaxItems: 2, Marker: first.Marker }));
    assert.deepEqual(second.Users?.map((u) => u.UserName), ['pg-c', 'pg-d']);

    const all: string[] = [];
    for await (const page of paginateListUsers({ client: h.root.iam, pageSize: 2 }, { PathPrefix: '/paged/' })) {
      all.push(...(page.Users ?? []).map((u) => u.UserName!));
    }
    assert.deepEqual(all, names);
  });

  test('a malformed policy document is MalformedPolicyDocument', async () => {
    await h.root.iam.send(new CreateUserCommand({ UserName: 'frank' }));
    for (const doc of ['{"Version":"2012-10-17","Statement":', '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}']) {
      const err = await rejection(h.root.iam.send(new PutUserPolicyCommand({ UserName: 'frank', PolicyName: 'bad', PolicyDocument: doc })));
      assert.ok(err instanceof MalformedPolicyDocumentException, `${doc}: ${err.name}`);
      assert.match(err.message, /^Syntax errors in policy/);
    }
  });

  test('input that breaks the model constraints is a ValidationError', async () => {
    const err = await rejection(h.root.iam.send(new CreateUserCommand({ UserName: 'no spaces allowed' })));
    assert.equal(err.name, 'ValidationError');
    assert.match(err.message, /userName/i);
  });

  test('an IAM action berth does not implement gets a clear "does not implement" error', async () => {
    const err = await rejection(h.root.iam.send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: allow('sts:AssumeRole') })));
    assert.equal(err.name, 'InvalidAction');
    assert.match(err.message, /berth does not implement iam action CreateRole/);
  });

  test('a wrong secret is SignatureDoesNotMatch and an unknown key InvalidClientTokenId, as the SDK sees them', async () => {
    const wrong = h.clients({ accessKeyId: h.app.rootCredentials.accessKeyId, secretAccessKey: 'x'.repeat(40) });
    const bad = await rejection(wrong.sts.send(new GetCallerIdentityCommand({})));
    assert.equal(bad.name, 'SignatureDoesNotMatch');
    assert.equal(bad.$metadata?.httpStatusCode, 403);
    assert.equal((await rejection(wrong.iam.send(new ListUsersCommand({})))).name, 'SignatureDoesNotMatch');
    const unknown = h.clients({ accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x'.repeat(40) });
    assert.equal((await rejection(unknown.iam.send(new ListUsersCommand({})))).name, 'InvalidClientTokenId');
    for (const c of [wrong, unknown]) {
      c.iam.destroy();
      c.sts.destroy();
    }
  });
});
