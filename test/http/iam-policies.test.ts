import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AddUserToGroupCommand, AttachGroupPolicyCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateGroupCommand, CreatePolicyCommand,
  CreatePolicyVersionCommand, CreateUserCommand, DeleteGroupCommand, DeleteGroupPolicyCommand, DeletePolicyCommand, DeletePolicyVersionCommand,
  DeleteUserCommand, DetachGroupPolicyCommand, DetachUserPolicyCommand, GetGroupCommand, GetGroupPolicyCommand, GetPolicyCommand,
  GetPolicyVersionCommand, ListAttachedGroupPoliciesCommand, ListAttachedUserPoliciesCommand, ListGroupPoliciesCommand, ListGroupsCommand,
  ListGroupsForUserCommand, ListPoliciesCommand, ListPolicyVersionsCommand, ListUsersCommand, PutGroupPolicyCommand,
  RemoveUserFromGroupCommand, SetDefaultPolicyVersionCommand, type CreatePolicyVersionCommandOutput, type IAMClient,
} from '@aws-sdk/client-iam';
import { ACCOUNT, allow, iamHarness, rejection } from './iam-helpers.js';

const h = iamHarness();
const READ_ONLY = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';

/** A new user with one access key, and IAM clients signed with it. */
async function userWithKey(name: string): Promise<IAMClient> {
  await h.root.iam.send(new CreateUserCommand({ UserName: name }));
  const { AccessKey } = await h.root.iam.send(new CreateAccessKeyCommand({ UserName: name }));
  const c = h.clients({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
  c.sts.destroy();
  return c.iam;
}

describe('IAM groups and policies over the Query protocol', () => {
  test('a group policy applies to members only, and membership shows in GetGroup and ListGroupsForUser', async () => {
    const gina = await userWithKey('gina');
    await h.root.iam.send(new CreateGroupCommand({ GroupName: 'readers', Path: '/teams/' }));
    await h.root.iam.send(new PutGroupPolicyCommand({ GroupName: 'readers', PolicyName: 'list', PolicyDocument: allow('iam:ListUsers') }));
    assert.equal((await rejection(gina.send(new ListUsersCommand({})))).name, 'AccessDenied');

    await h.root.iam.send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'gina' }));
    assert.ok((await gina.send(new ListUsersCommand({}))).Users?.some((u) => u.UserName === 'gina'));
    const group = await h.root.iam.send(new GetGroupCommand({ GroupName: 'readers' }));
    assert.equal(group.Group?.Arn, `arn:aws:iam::${ACCOUNT}:group/teams/readers`);
    assert.match(group.Group?.GroupId ?? '', /^AGPA/);
    assert.deepEqual(group.Users?.map((u) => u.UserName), ['gina']);
    assert.deepEqual((await h.root.iam.send(new ListGroupsForUserCommand({ UserName: 'gina' }))).Groups?.map((g) => g.GroupName), ['readers']);
    assert.deepEqual((await h.root.iam.send(new ListGroupPoliciesCommand({ GroupName: 'readers' }))).PolicyNames, ['list']);
    const doc = await h.root.iam.send(new GetGroupPolicyCommand({ GroupName: 'readers', PolicyName: 'list' }));
    assert.equal(doc.GroupName, 'readers');
    assert.equal(decodeURIComponent(doc.PolicyDocument!), allow('iam:ListUsers'));

    const busy = await rejection(h.root.iam.send(new DeleteGroupCommand({ GroupName: 'readers' })));
    assert.equal(busy.name, 'DeleteConflictException');
    assert.equal(busy.message, 'Cannot delete entity, must remove users from group first.');
    const inGroup = await rejection(h.root.iam.send(new DeleteUserCommand({ UserName: 'gina' })));
    assert.equal(inGroup.name, 'DeleteConflictException');

    await h.root.iam.send(new RemoveUserFromGroupCommand({ GroupName: 'readers', UserName: 'gina' }));
    assert.equal((await rejection(gina.send(new ListUsersCommand({})))).name, 'AccessDenied');
    const policies = await rejection(h.root.iam.send(new DeleteGroupCommand({ GroupName: 'readers' })));
    assert.equal(policies.message, 'Cannot delete entity, must delete policies first.');
    await h.root.iam.send(new DeleteGroupPolicyCommand({ GroupName: 'readers', PolicyName: 'list' }));
    await h.root.iam.send(new DeleteGroupCommand({ GroupName: 'readers' }));
    const gone = await rejection(h.root.iam.send(new GetGroupCommand({ GroupName: 'readers' })));
    assert.equal(gone.name, 'NoSuchEntityException');
    assert.equal(gone.message, 'The group with name readers cannot be found.');
    gina.destroy();
  });

  test('CreateGroup twice is EntityAlreadyExists; AddUserToGroup names the missing user', async () => {
    await h.root.iam.send(new CreateGroupCommand({ GroupName: 'dupes' }));
    assert.equal((await rejection(h.root.iam.send(new CreateGroupCommand({ GroupName: 'dupes' })))).message, 'Group with name dupes already exists.');
    const missing = await rejection(h.root.iam.send(new AddUserToGroupCommand({ GroupName: 'dupes', UserName: 'ghost' })));
    assert.equal(missing.message, 'The user with name ghost cannot be found.');
    assert.ok((await h.root.iam.send(new ListGroupsCommand({}))).Groups?.some((g) => g.GroupName === 'dupes'));
  });

  test('a customer managed policy keeps at most 5 versions, switches default, and refuses to delete the default', async () => {
    const hank = await userWithKey('hank');
    const created = await h.root.iam.send(new CreatePolicyCommand({ PolicyName: 'listers', PolicyDocument: allow('iam:ListGroups'), Description: 'lists' }));
    const arn = created.Policy!.Arn!;
    assert.equal(arn, `arn:aws:iam::${ACCOUNT}:policy/listers`);
    assert.equal(created.Policy?.DefaultVersionId, 'v1');
    assert.equal(created.Policy?.Description, 'lists');
    const dup = await rejection(h.root.iam.send(new CreatePolicyCommand({ PolicyName: 'listers', PolicyDocument: allow('iam:ListGroups') })));
    assert.equal(dup.message, 'A policy called listers already exists. Duplicate names are not allowed.');

    for (let i = 2; i <= 5; i++) {
      const v: CreatePolicyVersionCommandOutput = await h.root.iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: allow('iam:ListUsers'), SetAsDefault: false }));
      assert.equal(v.PolicyVersion?.VersionId, `v${i}`);
      assert.equal(v.PolicyVersion?.IsDefaultVersion, false);
    }
    const sixth = await rejection(h.root.iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: allow('iam:ListUsers') })));
    assert.equal(sixth.name, 'LimitExceededException');
    assert.match(sixth.message, /at most 5 versions|up to 5 versions/);

    await h.root.iam.send(new AttachUserPolicyCommand({ UserName: 'hank', PolicyArn: arn }));
    await hank.send(new ListGroupsCommand({}));
    assert.equal((await rejection(hank.send(new ListUsersCommand({})))).name, 'AccessDenied');
    await h.root.iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v3' }));
    await hank.send(new ListUsersCommand({}));
    assert.equal((await rejection(hank.send(new ListGroupsCommand({})))).name, 'AccessDenied');

    const got = await h.root.iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    assert.equal(got.Policy?.DefaultVersionId, 'v3');
    assert.equal(got.Policy?.AttachmentCount, 1);
    const v3 = await h.root.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v3' }));
    assert.equal(v3.PolicyVersion?.IsDefaultVersion, true);
    assert.equal(decodeURIComponent(v3.PolicyVersion!.Document!), allow('iam:ListUsers'));

    const deleteDefault = await rejection(h.root.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v3' })));
    assert.equal(deleteDefault.name, 'DeleteConflictException');
    assert.equal(deleteDefault.message, 'Cannot delete the default version of a policy.');
    await h.root.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' }));
    const versions = await h.root.iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
    assert.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsDefaultVersion]), [['v1', false], ['v3', true], ['v4', false], ['v5', false]]);

    const attached = await rejection(h.root.iam.send(new DeletePolicyCommand({ PolicyArn: arn })));
    assert.equal(attached.message, 'Cannot delete a policy attached to entities.');
    const userConflict = await rejection(h.root.iam.send(new DeleteUserCommand({ UserName: 'hank' })));
    assert.equal(userConflict.name, 'DeleteConflictException');
    await h.root.iam.send(new DetachUserPolicyCommand({ UserName: 'hank', PolicyArn: arn }));
    const notAttached = await rejection(h.root.iam.send(new DetachUserPolicyCommand({ UserName: 'hank', PolicyArn: arn })));
    assert.equal(notAttached.name, 'NoSuchEntityException');
    const versioned = await rejection(h.root.iam.send(new DeletePolicyCommand({ PolicyArn: arn })));
    assert.match(versioned.message, /more than one version/);
    for (const v of ['v1', 'v4', 'v5']) await h.root.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v }));
    await h.root.iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    const missing = await rejection(h.root.iam.send(new GetPolicyCommand({ PolicyArn: arn })));
    assert.equal(missing.name, 'NoSuchEntityException');
    assert.equal(missing.message, `Policy ${arn} was not found.`);
    hank.destroy();
  });

  test('the built-in AWS managed policies can be read, listed and attached by ARN, but not changed', async () => {
    const got = await h.root.iam.send(new GetPolicyCommand({ PolicyArn: READ_ONLY }));
    assert.equal(got.Policy?.PolicyName, 'AmazonEC2ContainerRegistryReadOnly');
    assert.equal(got.Policy?.Arn, READ_ONLY);
    assert.equal(got.Policy?.DefaultVersionId, 'v1');
    assert.match(got.Policy?.PolicyId ?? '', /^ANPA/);
    assert.equal((await h.root.iam.send(new GetPolicyCommand({ PolicyArn: READ_ONLY }))).Policy?.PolicyId, got.Policy?.PolicyId);
    const version = await h.root.iam.send(new GetPolicyVersionCommand({ PolicyArn: READ_ONLY, VersionId: 'v1' }));
    const document = JSON.parse(decodeURIComponent(version.PolicyVersion!.Document!)) as { Statement: { Action: string[] }[] };
    assert.ok(document.Statement[0]?.Action.includes('ecr:BatchGetImage'));
    assert.deepEqual((await h.root.iam.send(new ListPolicyVersionsCommand({ PolicyArn: READ_ONLY }))).Versions?.map((v) => v.VersionId), ['v1']);
    assert.equal((await rejection(h.root.iam.send(new GetPolicyVersionCommand({ PolicyArn: READ_ONLY, VersionId: 'v9' })))).name, 'NoSuchEntityException');

    await h.root.iam.send(new CreateUserCommand({ UserName: 'ivy' }));
    await h.root.iam.send(new AttachUserPolicyCommand({ UserName: 'ivy', PolicyArn: READ_ONLY }));
    await h.root.iam.send(new AttachUserPolicyCommand({ UserName: 'ivy', PolicyArn: READ_ONLY }));
    const listed = await h.root.iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'ivy' }));
    assert.deepEqual(listed.AttachedPolicies, [{ PolicyName: 'AmazonEC2ContainerRegistryReadOnly', PolicyArn: READ_ONLY }]);
    const attachedOnly = await h.root.iam.send(new ListPoliciesCommand({ Scope: 'AWS', OnlyAttached: true }));
    assert.deepEqual(attachedOnly.Policies?.map((p) => [p.Arn, p.AttachmentCount]), [[READ_ONLY, 1]]);
    assert.equal((await h.root.iam.send(new ListPoliciesCommand({ Scope: 'AWS' }))).Policies?.length, 3);

    const change = await rejection(h.root.iam.send(new CreatePolicyVersionCommand({ PolicyArn: READ_ONLY, PolicyDocument: allow('ecr:*') })));
    assert.equal(change.name, 'AccessDenied');
    assert.equal((await rejection(h.root.iam.send(new DeletePolicyCommand({ PolicyArn: READ_ONLY })))).name, 'AccessDenied');
    const unknown = await rejection(h.root.iam.send(new AttachUserPolicyCommand({ UserName: 'ivy', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' })));
    assert.equal(unknown.name, 'NoSuchEntityException');
    assert.equal(unknown.message, 'Policy arn:aws:iam::aws:policy/AdministratorAccess does not exist or is not attachable.');

    const conflict = await rejection(h.root.iam.send(new DeleteUserCommand({ UserName: 'ivy' })));
    assert.equal(conflict.message, 'Cannot delete entity, must detach all policies first.');
    await h.root.iam.send(new DetachUserPolicyCommand({ UserName: 'ivy', PolicyArn: READ_ONLY }));
    await h.root.iam.send(new DeleteUserCommand({ UserName: 'ivy' }));
  });

  test('group attachments apply managed policies to members and block DeleteGroup until detached', async () => {
    const jack = await userWithKey('jack');
    const { Policy } = await h.root.iam.send(new CreatePolicyCommand({ PolicyName: 'see-groups', Path: '/ops/', PolicyDocument: allow('iam:ListGroups') }));
    assert.equal(Policy?.Arn, `arn:aws:iam::${ACCOUNT}:policy/ops/see-groups`);
    await h.root.iam.send(new CreateGroupCommand({ GroupName: 'ops' }));
    await h.root.iam.send(new AttachGroupPolicyCommand({ GroupName: 'ops', PolicyArn: Policy!.Arn! }));
    await h.root.iam.send(new AddUserToGroupCommand({ GroupName: 'ops', UserName: 'jack' }));
    await jack.send(new ListGroupsCommand({}));
    const attached = await h.root.iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'ops', PathPrefix: '/ops/' }));
    assert.deepEqual(attached.AttachedPolicies, [{ PolicyName: 'see-groups', PolicyArn: Policy!.Arn! }]);
    assert.deepEqual((await h.root.iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'ops', PathPrefix: '/other/' }))).AttachedPolicies, []);

    await h.root.iam.send(new RemoveUserFromGroupCommand({ GroupName: 'ops', UserName: 'jack' }));
    const conflict = await rejection(h.root.iam.send(new DeleteGroupCommand({ GroupName: 'ops' })));
    assert.equal(conflict.message, 'Cannot delete entity, must detach all policies first.');
    await h.root.iam.send(new DetachGroupPolicyCommand({ GroupName: 'ops', PolicyArn: Policy!.Arn! }));
    await h.root.iam.send(new DeleteGroupCommand({ GroupName: 'ops' }));
    jack.destroy();
  });

  test('ListPolicies pages across AWS managed and local policies with an opaque Marker', async () => {
    for (const n of ['zz-1', 'zz-2', 'zz-3']) await h.root.iam.send(new CreatePolicyCommand({ PolicyName: n, PolicyDocument: allow('iam:GetUser') }));
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await h.root.iam.send(new ListPoliciesCommand({ MaxItems: 2, ...(marker ? { Marker: marker } : {}) }));
      assert.ok((page.Policies?.length ?? 0) <= 2);
      seen.push(...(page.Policies ?? []).map((p) => p.PolicyName!));
      marker = page.IsTruncated ? page.Marker : undefined;
      pages++;
    } while (marker && pages < 20);
    assert.deepEqual(seen.slice(0, 3), ['AmazonEC2ContainerRegistryFullAccess', 'AmazonEC2ContainerRegistryPowerUser', 'AmazonEC2ContainerRegistryReadOnly']);
    assert.deepEqual(seen.filter((n) => n.startsWith('zz-')), ['zz-1', 'zz-2', 'zz-3']);
    assert.equal(new Set(seen).size, seen.length);
    const local = await h.root.iam.send(new ListPoliciesCommand({ Scope: 'Local' }));
    assert.ok(local.Policies?.every((p) => p.Arn?.startsWith(`arn:aws:iam::${ACCOUNT}:policy/`)));
    assert.ok(local.Policies?.every((p) => p.Description === undefined));
  });
});
