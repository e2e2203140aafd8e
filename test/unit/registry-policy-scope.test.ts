import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registryPolicyActionProblems, type RegistryPolicyScope } from '../../src/core/services/ecr/registry-policy-scope.js';

const doc = (statement: Record<string, unknown>): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 's', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, ...statement }] });

describe('registry policy actions by REGISTRY_POLICY_SCOPE (ECR User Guide, private registry permissions)', () => {
  const rows: [string, Record<string, unknown>, RegistryPolicyScope, boolean][] = [
    ['replication under V1', { Action: ['ecr:ReplicateImage', 'ecr:CreateRepository'] }, 'V1', true],
    ['pull-through cache under V1, any case', { Action: 'ECR:BatchImportUpstreamImage' }, 'V1', true],
    ['ecr:* under V1 (ECR accepts it)', { Action: 'ecr:*' }, 'V1', true],
    ['an image read under V1', { Action: ['ecr:ReplicateImage', 'ecr:BatchGetImage'] }, 'V1', false],
    ['NotAction under V1', { NotAction: 'ecr:ReplicateImage' }, 'V1', false],
    ['an image read under V2', { Action: 'ecr:BatchGetImage' }, 'V2', true],
    ['another service under V2', { Action: ['ecr:BatchGetImage', 's3:GetObject'] }, 'V2', false],
    ['a bare wildcard under V2', { Action: '*' }, 'V2', false],
  ];
  for (const [what, statement, scope, allowed] of rows) {
    it(`${allowed ? 'allows' : 'refuses'} ${what}`, () => {
      const problems = registryPolicyActionProblems(doc(statement), scope);
      assert.equal(problems.length === 0, allowed, problems.join('; '));
    });
  }
  it('names the refused action and its statement', () => {
    assert.deepEqual(registryPolicyActionProblems(doc({ Action: 'ecr:BatchGetImage' }), 'V1'),
      ['Statement[0] names "ecr:BatchGetImage": the V1 registry policy scope allows only ecr:ReplicateImage, ecr:BatchImportUpstreamImage, ecr:CreateRepository']);
  });
});
