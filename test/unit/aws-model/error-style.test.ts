import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validationStyle } from '../../../src/http/aws/model/error-style.js';
import { loadServiceModel } from '../../../src/http/aws/model/load.js';
import { validateInput } from '../../../src/http/aws/model/validate.js';

const ecr = loadServiceModel('ecr');
const kms = loadServiceModel('kms');
const iam = loadServiceModel('iam');

/** What a service answers for `input` to `op`: the domain code and message its style gives. */
function answer(service: 'ecr' | 'kms' | 'iam', op: string, input: unknown): [string, string] {
  const model = { ecr, kms, iam }[service];
  const problems = validateInput(model, op, input);
  assert.ok(problems.length > 0, 'expected the input to be invalid');
  const style = validationStyle(service);
  return [style.code, style.message(problems)];
}

const ECR_NAME = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';

describe('validation style per service: ECR words constraint failures its own way', () => {
  const rows: [string, string, unknown, string][] = [
    ['a name outside the pattern (ECR quotes its own form of it)', 'CreateRepository', { repositoryName: 'Organization/repo-name' },
      `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${ECR_NAME}''`],
    ['a name too short', 'CreateRepository', { repositoryName: 'a' },
      "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'"],
    ['a list too long', 'BatchGetImage', { repositoryName: 'ab', imageIds: Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` })) },
      "Invalid parameter at 'imageIds' failed to satisfy constraint: 'must have length less than or equal to 100'"],
    ['a number too small', 'DescribeRepositories', { maxResults: 0 },
      "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must have value greater than or equal to 1'"],
    ['an enum value', 'PutImageTagMutability', { repositoryName: 'ab', imageTagMutability: 'invalid' },
      "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'"],
    ['a nested enum value', 'CreateRepository', { repositoryName: 'ab', imageTagMutabilityExclusionFilters: [{ filterType: 'X', filter: 'a*' }] },
      "Invalid parameter at 'imageTagMutabilityExclusionFilters.1.member.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD]'"],
    ['a missing required member', 'CreateRepository', {}, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'"],
  ];
  for (const [what, op, input, message] of rows) {
    it(`${what}: InvalidParameterException`, () => assert.deepEqual(answer('ecr', op, input), ['InvalidParameter', message]));
  }

  it('reports only the first of several problems, as ECR does', () => {
    const [, message] = answer('ecr', 'CreateRepository', { repositoryName: 'A', imageTagMutability: 'x' });
    assert.equal(message, `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${ECR_NAME}''`);
  });

  it('keeps berth\'s sentence for a member ECR does not know (ECR has no wording for it)', () => {
    assert.deepEqual(answer('ecr', 'CreateRepository', { repositoryNme: 'ab' }),
      ['InvalidParameter', "Unknown field 'repositoryNme' in CreateRepositoryRequest (did you mean 'repositoryName'?)"]);
  });
});

describe('validation style per service: IAM and KMS keep the AWS front-end wording', () => {
  it('KMS: ValidationException listing every problem', () => {
    const [code, message] = answer('kms', 'DescribeKey', { KeyId: '' });
    assert.equal(code, 'ValidationError');
    assert.equal(message, "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1");
  });
  it('IAM: ValidationError (the Query protocol code) with the same wording', () => {
    const [code, message] = answer('iam', 'GetUser', { UserName: 'bad name' });
    assert.equal(code, 'ValidationError');
    assert.match(message, /^1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: /);
  });
});
