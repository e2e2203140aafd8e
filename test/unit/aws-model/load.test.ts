import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getOperation, loadServiceModel, modelsDirectory } from '../../../src/http/aws/model/load.js';
import { paginatorFor, paginatorsFor, waitersFor } from '../../../src/http/aws/model/paginate.js';
import type { ServiceName } from '../../../src/http/aws/model/types.js';

const SERVICES: ServiceName[] = ['ecr', 'ecr-public', 'iam', 'sts', 'kms'];

function hasKey(value: unknown, key: string): boolean {
  if (Array.isArray(value)) return value.some((v) => hasKey(v, key));
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([k, v]) => k === key || hasKey(v, key));
}

describe('loadServiceModel', () => {
  it('finds models/ at the package root, next to package.json', () => {
    const pkg = JSON.parse(readFileSync(join(modelsDirectory(), '..', 'package.json'), 'utf8')) as { name: string };
    assert.equal(pkg.name, 'berth');
  });

  it('parses each model once and returns the cached object afterwards', () => {
    for (const s of SERVICES) assert.equal(loadServiceModel(s), loadServiceModel(s));
  });

  it('carries the wire metadata handlers route on', () => {
    const ecr = loadServiceModel('ecr').metadata;
    assert.deepEqual([ecr.protocol, ecr.jsonVersion, ecr.targetPrefix, ecr.signingName], ['json', '1.1', 'AmazonEC2ContainerRegistry_V20150921', 'ecr']);
    assert.equal(loadServiceModel('ecr-public').metadata.targetPrefix, 'SpencerFrontendService');
    assert.equal(loadServiceModel('kms').metadata.targetPrefix, 'TrentService');
    assert.equal(loadServiceModel('iam').metadata.protocol, 'query');
    assert.equal(loadServiceModel('iam').metadata.xmlNamespace, 'https://iam.amazonaws.com/doc/2010-05-08/');
    assert.equal(loadServiceModel('sts').metadata.xmlNamespace, 'https://sts.amazonaws.com/doc/2011-06-15/');
  });

  it('strips documentation from every model', () => {
    for (const s of SERVICES) assert.equal(hasKey(loadServiceModel(s), 'documentation'), false, s);
  });

  it('stripping "documentation" keys is safe: no shape or member in the shipped files is named that', () => {
    for (const file of ['ecr-2015-09-21', 'ecr-public-2020-10-30', 'iam-2010-05-08', 'sts-2011-06-15', 'kms-2014-11-01']) {
      const raw = JSON.parse(readFileSync(join(modelsDirectory(), `${file}.json`), 'utf8')) as { shapes: Record<string, { members?: object }> };
      assert.equal(Object.hasOwn(raw.shapes, 'documentation'), false, file);
      for (const shape of Object.values(raw.shapes)) assert.equal(Object.hasOwn(shape.members ?? {}, 'documentation'), false, file);
    }
  });

  it('exposes operations with input, output, result wrapper and errors', () => {
    const create = getOperation(loadServiceModel('ecr'), 'CreateRepository');
    assert.equal(create.input?.shape, 'CreateRepositoryRequest');
    assert.ok(create.errors?.some((e) => e.shape === 'RepositoryAlreadyExistsException'));
    assert.equal(getOperation(loadServiceModel('iam'), 'CreateUser').output?.resultWrapper, 'CreateUserResult');
  });
});

describe('paginatorsFor / waitersFor', () => {
  it('returns the ECR paginators with their token, limit and result keys', () => {
    assert.deepEqual(paginatorsFor('ecr').DescribeImages, { input_token: 'nextToken', output_token: 'nextToken', limit_key: 'maxResults', result_key: 'imageDetails' });
    assert.equal(paginatorFor('ecr', 'DescribeRepositories')?.result_key, 'repositories');
    assert.equal(paginatorFor('ecr', 'CreateRepository'), undefined);
  });

  it('every ECR paginator names members that exist on its operation', () => {
    const ecr = loadServiceModel('ecr');
    for (const [op, p] of Object.entries(paginatorsFor('ecr'))) {
      const operation = getOperation(ecr, op);
      const input = ecr.shapes[operation.input?.shape ?? ''];
      const output = ecr.shapes[operation.output?.shape ?? ''];
      assert.ok(input?.type === 'structure' && output?.type === 'structure', op);
      for (const k of [p.input_token, p.limit_key].flat()) if (k) assert.ok(Object.hasOwn(input.members, k), `${op} input ${k}`);
      for (const k of [p.output_token, p.result_key].flat()) if (k) assert.ok(Object.hasOwn(output.members, k.split('.')[0]!), `${op} output ${k}`);
    }
  });

  it('returns the ECR waiters', () => {
    assert.equal(waitersFor('ecr').ImageScanComplete?.operation, 'DescribeImageScanFindings');
  });
});
