import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServiceModel } from '../../../src/http/aws/model/load.js';
import { awsPath, formatValidationMessage } from '../../../src/http/aws/model/messages.js';
import { validateInput, type ValidationProblem } from '../../../src/http/aws/model/validate.js';

const ecr = loadServiceModel('ecr');
const kms = loadServiceModel('kms');
const brief = (ps: ValidationProblem[]): string[] => ps.map((p) => `${p.kind} ${p.path}`);
const REPO_PATTERN = ecr.shapes.RepositoryName?.type === 'string' ? ecr.shapes.RepositoryName.pattern : undefined;

describe('validateInput: real ECR requests validate clean', () => {
  const valid: [string, Record<string, unknown>][] = [
    ['CreateRepository', {
      repositoryName: 'team-a/web_app.v2',
      registryId: '123456789012',
      tags: [{ Key: 'env', Value: 'prod' }, { Key: 'owner', Value: '' }],
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest*' }],
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/abcd-1234' },
    }],
    ['DescribeImages', { repositoryName: 'ubuntu', filter: { tagStatus: 'TAGGED' }, maxResults: 1000, nextToken: 'abc' }],
    ['DescribeImages', { repositoryName: 'ubuntu', imageIds: [{ imageTag: 'latest' }, { imageDigest: `sha256:${'a'.repeat(64)}` }] }],
    ['BatchDeleteImage', { repositoryName: 'ubuntu', imageIds: [{ imageTag: 'v1' }, { imageDigest: `sha256:${'b'.repeat(64)}` }] }],
    ['DescribeRepositories', {}],
    ['GetAuthorizationToken', {}],
    ['UploadLayerPart', { repositoryName: 'ab', uploadId: '0b1e2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d', partFirstByte: 0, partLastByte: 3, layerPartBlob: 'AAECAw==' }],
  ];
  for (const [op, input] of valid) {
    it(`${op} ${JSON.stringify(input).slice(0, 70)}… has no problems`, () => assert.deepEqual(validateInput(ecr, op, input), []));
  }

  it('null members count as absent (optional ones are fine)', () => {
    assert.deepEqual(validateInput(ecr, 'DescribeRepositories', { registryId: null, nextToken: null }), []);
  });
});

describe('validateInput: each kind of problem, with path and AWS wording', () => {
  it("repositoryName 'A' fails both the pattern and the minimum length", () => {
    const ps = validateInput(ecr, 'CreateRepository', { repositoryName: 'A' });
    assert.deepEqual(brief(ps), ['pattern repositoryName', 'min repositoryName']);
    assert.equal(
      formatValidationMessage(ps),
      `2 validation errors detected: Value 'A' at 'repositoryName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${REPO_PATTERN}; ` +
        "Value 'A' at 'repositoryName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    );
  });

  it('a name longer than 256 characters fails the maximum length', () => {
    const ps = validateInput(ecr, 'CreateRepository', { repositoryName: 'a'.repeat(257) });
    assert.deepEqual(brief(ps), ['max repositoryName']);
    assert.match(ps[0]!.message, /Member must have length less than or equal to 256$/);
  });

  it("imageTagMutability 'WRONG' is outside the enum value set", () => {
    const ps = validateInput(ecr, 'CreateRepository', { repositoryName: 'ab', imageTagMutability: 'WRONG' });
    assert.equal(
      formatValidationMessage(ps),
      "1 validation error detected: Value 'WRONG' at 'imageTagMutability' failed to satisfy constraint: " +
        'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]',
    );
  });

  it('maxResults 0 and 1001 break the 1..1000 range', () => {
    const low = validateInput(ecr, 'DescribeRepositories', { maxResults: 0 });
    const high = validateInput(ecr, 'DescribeRepositories', { maxResults: 1001 });
    assert.deepEqual(brief(low), ['min maxResults']);
    assert.equal(low[0]!.message, "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1");
    assert.deepEqual(brief(high), ['max maxResults']);
    assert.equal(high[0]!.message, "Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000");
  });

  it('an unknown member is reported by name, with the closest real member suggested', () => {
    const ps = validateInput(ecr, 'CreateRepository', { repositoryNme: 'ab', repositoryName: 'ab' });
    assert.deepEqual(brief(ps), ['unknown repositoryNme']);
    assert.match(ps[0]!.message, /Unknown field 'repositoryNme' in CreateRepositoryRequest \(did you mean 'repositoryName'\?\)/);
  });

  it('an unknown member inside a list item is reported with its full path', () => {
    const ps = validateInput(ecr, 'CreateRepository', { repositoryName: 'ab', tags: [{ Key: 'a', Value: 'b' }, { Key: 'c', Value: 'd', Vlaue: 'x' }] });
    assert.deepEqual(brief(ps), ['unknown tags[1].Vlaue']);
    assert.match(ps[0]!.message, /'Vlaue' at 'tags\.2\.member' in Tag \(did you mean 'Value'\?\)/);
  });

  it('imageIds sent as a string is a type problem', () => {
    const ps = validateInput(ecr, 'BatchDeleteImage', { repositoryName: 'ab', imageIds: 'latest' });
    assert.deepEqual(brief(ps), ['type imageIds']);
    assert.equal(ps[0]!.message, "Value at 'imageIds' must be a list, not the string 'latest'");
  });

  it('wrong JSON types for numbers, booleans, structures, timestamps and blobs are reported', () => {
    assert.deepEqual(brief(validateInput(ecr, 'DescribeRepositories', { maxResults: '10' })), ['type maxResults']);
    assert.deepEqual(brief(validateInput(ecr, 'DescribeRepositories', { maxResults: 1.5 })), ['type maxResults']);
    assert.deepEqual(brief(validateInput(ecr, 'CreateRepository', { repositoryName: 'ab', imageScanningConfiguration: { scanOnPush: 'yes' } })), ['type imageScanningConfiguration.scanOnPush']);
    assert.deepEqual(brief(validateInput(ecr, 'CreateRepository', { repositoryName: 'ab', encryptionConfiguration: ['KMS'] })), ['type encryptionConfiguration']);
    assert.deepEqual(brief(validateInput(ecr, 'UploadLayerPart', { repositoryName: 'ab', uploadId: '0b1e2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d', partFirstByte: 0, partLastByte: 1, layerPartBlob: 'not base64!' })), ['type layerPartBlob']);
  });

  it('a top level that is not an object is a type problem at the empty path', () => {
    for (const body of [null, [], 'x', 3]) assert.deepEqual(brief(validateInput(ecr, 'DescribeRepositories', body)), ['type ']);
    assert.match(validateInput(ecr, 'DescribeRepositories', [])[0]!.message, /^The request body must be a structure/);
  });

  it('a missing required member renders as "Member must not be null"', () => {
    const ps = validateInput(ecr, 'BatchDeleteImage', { imageIds: [{ imageTag: 'x' }] });
    assert.deepEqual(brief(ps), ['required repositoryName']);
    assert.equal(formatValidationMessage(ps), "1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null");
  });

  it('nested required members and list bounds use the AWS .N.member. path', () => {
    const ps = validateInput(ecr, 'CreateRepository', {
      repositoryName: 'ab',
      tags: [{ Key: 'a', Value: 'b' }, { Key: 'c' }],
      imageTagMutabilityExclusionFilters: [],
    });
    assert.deepEqual(brief(ps), ['required tags[1].Value', 'min imageTagMutabilityExclusionFilters']);
    assert.match(ps[0]!.message, /^Value null at 'tags\.2\.member\.value' failed/);
    assert.match(ps[1]!.message, /^Value '\[\]' at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: Member must have length greater than or equal to 1$/);
  });

  it('a list over its maximum size reports max on the list', () => {
    const imageIds = Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` }));
    assert.deepEqual(brief(validateInput(ecr, 'BatchDeleteImage', { repositoryName: 'ab', imageIds })), ['max imageIds']);
  });

  it('blob length is checked on the decoded bytes, and sensitive values are not echoed', () => {
    const ps = validateInput(kms, 'Encrypt', { KeyId: 'alias/x', Plaintext: '' });
    assert.deepEqual(brief(ps), ['min Plaintext']);
    assert.equal(ps[0]!.message, "Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1");
    assert.deepEqual(validateInput(kms, 'Encrypt', { KeyId: 'alias/x', Plaintext: 'aGk=' }), []);
  });

  it('map keys and values are checked and reported at the map path', () => {
    const ps = validateInput(kms, 'Encrypt', { KeyId: 'alias/x', Plaintext: 'aGk=', EncryptionContext: { a: 'b', c: 7 } });
    assert.deepEqual(brief(ps), ['type EncryptionContext.c']);
  });

  it('timestamps accept epoch seconds and ISO 8601 strings, nothing else', () => {
    const base = { KeyId: 'k', ImportToken: 'AAAA', EncryptedKeyMaterial: 'AAAA' };
    const problemsFor = (validTo: unknown): string[] => brief(validateInput(kms, 'ImportKeyMaterial', { ...base, ValidTo: validTo }));
    for (const good of [1767225600, 1767225600.5, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000+01:00']) assert.deepEqual(problemsFor(good), [], String(good));
    for (const bad of ['tomorrow', '2026-01-01', true, {}, Number.NaN]) assert.deepEqual(problemsFor(bad), ['type ValidTo'], String(bad));
  });

  it('awsPath turns our 0-based paths into the 1-based .N.member. form with lower-cased member names', () => {
    assert.equal(awsPath('imageIds[2].imageTag'), 'imageIds.3.member.imageTag');
    assert.equal(awsPath('Tags[0].Key'), 'tags.1.member.key');
    assert.equal(awsPath('repositoryName'), 'repositoryName');
  });

  it('formatValidationMessage is empty for no problems', () => assert.equal(formatValidationMessage([]), ''));

  it('an operation the model does not have throws (a handler bug, not a client error)', () => {
    assert.throws(() => validateInput(ecr, 'NoSuchOperation', {}), /no operation NoSuchOperation/);
    assert.throws(() => validateInput(ecr, 'constructor', {}), /no operation constructor/);
  });
});
