import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AMAZON_EC2_CONTAINER_REGISTRY_FULL_ACCESS as FULL,
  AMAZON_EC2_CONTAINER_REGISTRY_POWER_USER as POWER,
  AMAZON_EC2_CONTAINER_REGISTRY_READ_ONLY as READ,
  MANAGED_POLICIES,
  parsePolicy,
} from '../../../src/auth/policy/index.js';
import type { ManagedPolicy } from '../../../src/auth/policy/index.js';
import { ask } from './helpers.js';

const PULL = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:GetAuthorizationToken', 'ecr:DescribeRepositories', 'ecr:ListImages', 'ecr:DescribeImages'];
const PUSH = ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'];
const ADMIN = ['ecr:DeleteRepository', 'ecr:SetRepositoryPolicy', 'ecr:DeleteRepositoryPolicy', 'ecr:CreateRepository', 'ecr:BatchDeleteImage', 'ecr:PutLifecyclePolicy', 'ecr:PutRegistryPolicy'];

const allowed = (p: ManagedPolicy, action: string): boolean => ask({ action, identity: [p.policy] }).decision === 'Allow';

describe('AWS managed ECR policies', () => {
  const rows: [ManagedPolicy, string[], boolean, string][] = [
    [READ, PULL, true, 'ReadOnly allows pulling and describing'],
    [READ, PUSH, false, 'ReadOnly does not allow pushing'],
    [READ, ADMIN, false, 'ReadOnly does not allow administration'],
    [POWER, [...PULL, ...PUSH], true, 'PowerUser allows pull and push'],
    [POWER, ADMIN, false, 'PowerUser does not allow deleting repositories or changing policies'],
    [FULL, [...PULL, ...PUSH, ...ADMIN, 'ecr:AnyFutureAction'], true, 'FullAccess allows every ecr: action'],
    [FULL, ['ecr-public:PutImage', 'iam:CreateUser', 'kms:Decrypt'], false, 'FullAccess does not reach other services'],
  ];
  for (const [p, actions, expected, behaviour] of rows) {
    for (const action of actions) {
      it(`${behaviour}: ${action}`, () => assert.equal(allowed(p, action), expected));
    }
  }

  it('FullAccess allows cloudtrail:LookupEvents for lifecycle history in the console', () => assert.equal(allowed(FULL, 'cloudtrail:LookupEvents'), true));
  it('FullAccess allows creating only the ECR replication service-linked role', () => {
    const create = (service: string): string => ask({ action: 'iam:CreateServiceLinkedRole', resource: 'arn:aws:iam::111122223333:role/aws-service-role/x', identity: [FULL.policy], context: { 'iam:AWSServiceName': service } }).decision;
    assert.equal(create('replication.ecr.amazonaws.com'), 'Allow');
    assert.equal(create('ec2.amazonaws.com'), 'ImplicitDeny');
  });
  it('each policy carries its real ARN and is listed by it', () => {
    for (const p of [READ, POWER, FULL]) {
      assert.equal(p.arn, `arn:aws:iam::aws:policy/${p.name}`);
      assert.equal(MANAGED_POLICIES.get(p.arn), p);
    }
    assert.equal(MANAGED_POLICIES.size, 3);
  });
  it('each document round-trips through the parser as a valid identity policy', () => {
    for (const p of [READ, POWER, FULL]) assert.ok('policy' in parsePolicy(JSON.stringify(p.document), 'identity'), p.name);
  });
});
