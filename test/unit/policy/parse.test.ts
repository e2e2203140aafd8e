import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicy } from '../../../src/auth/policy/index.js';
import type { PolicyKind } from '../../../src/auth/policy/index.js';
import { policy } from './helpers.js';

const okStatement = { Effect: 'Allow', Action: 'ecr:*', Resource: '*' };
const okResourceStatement = { Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage' };

describe('policy grammar: normalization', () => {
  it('a single statement object becomes a one-element array with arrays everywhere', () => {
    const p = policy({ Version: '2012-10-17', Id: 'p1', Statement: { Sid: 'A', ...okStatement } });
    assert.equal(p.version, '2012-10-17');
    assert.equal(p.id, 'p1');
    assert.equal(p.statements.length, 1);
    assert.deepEqual(p.statements[0], { sid: 'A', effect: 'Allow', action: { negated: false, patterns: ['ecr:*'] }, resource: { negated: false, patterns: ['*'] }, conditions: [] });
  });
  it('NotAction and NotResource are kept as negated lists', () => {
    const p = policy({ Statement: [{ Effect: 'Deny', NotAction: ['ecr:Get*', 'ecr:List*'], NotResource: 'arn:aws:ecr:*:*:repository/public/*' }] });
    assert.deepEqual(p.statements[0]?.action, { negated: true, patterns: ['ecr:Get*', 'ecr:List*'] });
    assert.deepEqual(p.statements[0]?.resource, { negated: true, patterns: ['arn:aws:ecr:*:*:repository/public/*'] });
    assert.equal(p.version, undefined);
  });
  it('Principal forms normalize into typed lists, with "*" and {"AWS":"*"} as the wildcard', () => {
    const star = policy({ Statement: okResourceStatement }, 'resource').statements[0]?.principal;
    assert.equal(star?.wildcard, true);
    const awsStar = policy({ Statement: { ...okResourceStatement, Principal: { AWS: '*' } } }, 'resource').statements[0]?.principal;
    assert.equal(awsStar?.wildcard, true);
    const mixed = policy({
      Statement: { ...okResourceStatement, Principal: { AWS: ['123456789012', 'arn:aws:iam::123456789012:role/ci'], Service: 'ecr.amazonaws.com', Federated: 'cognito-identity.amazonaws.com' } },
    }, 'resource').statements[0]?.principal;
    assert.deepEqual(mixed, {
      negated: false, wildcard: false, aws: ['123456789012', 'arn:aws:iam::123456789012:role/ci'],
      service: ['ecr.amazonaws.com'], federated: ['cognito-identity.amazonaws.com'], canonicalUser: [],
    });
  });
  it('Condition blocks flatten into one entry per operator and key, values stringified', () => {
    const p = policy({ Statement: { ...okStatement, Condition: {
      'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': ['env*', 'team'] },
      NumericLessThan: { 'ecr:x': 5 },
      Bool: { 'aws:SecureTransport': true },
    } } });
    assert.deepEqual(p.statements[0]?.conditions, [
      { raw: 'ForAnyValue:StringLikeIfExists', key: 'aws:TagKeys', values: ['env*', 'team'], operator: 'StringLike', ifExists: true, qualifier: 'ForAnyValue' },
      { raw: 'NumericLessThan', key: 'ecr:x', values: ['5'], operator: 'NumericLessThan', ifExists: false },
      { raw: 'Bool', key: 'aws:SecureTransport', values: ['true'], operator: 'Bool', ifExists: false },
    ]);
  });
  it('a resource policy may omit Resource (it applies to the resource it is attached to)', () => {
    assert.equal(policy({ Statement: okResourceStatement }, 'resource').statements[0]?.resource, undefined);
  });
  it('the 2008-10-17 version is accepted', () => {
    assert.equal(policy({ Version: '2008-10-17', Statement: okStatement }).version, '2008-10-17');
  });
});

describe('policy grammar: errors name what is wrong', () => {
  const rows: [string, string | unknown, PolicyKind, RegExp][] = [
    ['text that is not JSON', '{"Statement": [', 'identity', /not valid JSON/],
    ['a JSON array', [], 'identity', /must be a JSON object/],
    ['an unknown Version', { Version: '2020-01-01', Statement: okStatement }, 'identity', /^Version must be/],
    ['an unknown top-level element', { Statment: okStatement }, 'identity', /unknown element "Statment"/],
    ['a missing Statement', { Version: '2012-10-17' }, 'identity', /^Statement must be/],
    ['an empty Statement array', { Statement: [] }, 'identity', /^Statement must be/],
    ['a non-string Id', { Id: 5, Statement: okStatement }, 'identity', /^Id must be a string/],
    ['a statement that is not an object', { Statement: ['x'] }, 'identity', /^Statement\[0\] must be an object/],
    ['an Effect other than Allow or Deny', { Statement: [okStatement, { ...okStatement, Effect: 'allow' }] }, 'identity', /^Statement\[1\]\.Effect must be "Allow" or "Deny"/],
    ['a missing Effect', { Statement: { Action: '*', Resource: '*' } }, 'identity', /Statement\[0\]\.Effect/],
    ['both Action and NotAction', { Statement: { ...okStatement, NotAction: 'ecr:PutImage' } }, 'identity', /both Action and NotAction/],
    ['neither Action nor NotAction', { Statement: { Effect: 'Allow', Resource: '*' } }, 'identity', /must have Action or NotAction/],
    ['an empty Action array', { Statement: { ...okStatement, Action: [] } }, 'identity', /Action must be a string or a non-empty array/],
    ['a non-string action', { Statement: { ...okStatement, Action: [1] } }, 'identity', /Action must be a string/],
    ['an action without a service prefix', { Statement: { ...okStatement, Action: 'PutImage' } }, 'identity', /Action\[0\] must be "\*" or "service:action"/],
    ['a missing Resource in an identity policy', { Statement: { Effect: 'Allow', Action: '*' } }, 'identity', /must have Resource or NotResource/],
    ['both Resource and NotResource', { Statement: { ...okStatement, NotResource: '*' } }, 'identity', /both Resource and NotResource/],
    ['a Resource that is not an ARN', { Statement: { ...okStatement, Resource: 'repository/app' } }, 'identity', /Resource\[0\] must be "\*" or an ARN/],
    ['a truncated ARN', { Statement: { ...okStatement, Resource: 'arn:aws:ecr:us-east-1' } }, 'identity', /Resource\[0\] must be "\*" or an ARN/],
    ['a Principal in an identity policy', { Statement: { ...okStatement, Principal: '*' } }, 'identity', /Principal is not allowed in an identity policy/],
    ['a missing Principal in a resource policy', { Statement: { Effect: 'Allow', Action: '*' } }, 'resource', /must have Principal or NotPrincipal/],
    ['both Principal and NotPrincipal', { Statement: { ...okResourceStatement, NotPrincipal: '*' } }, 'resource', /both Principal and NotPrincipal/],
    ['an unknown principal type', { Statement: { ...okResourceStatement, Principal: { User: 'x' } } }, 'resource', /Principal\.User is not a principal type/],
    ['an empty Principal object', { Statement: { ...okResourceStatement, Principal: {} } }, 'resource', /Principal must be "\*" or an object/],
    ['a malformed AWS principal', { Statement: { ...okResourceStatement, Principal: { AWS: 'alice' } } }, 'resource', /Principal\.AWS\[0\] must be/],
    ['a wildcard inside an AWS principal ARN', { Statement: { ...okResourceStatement, Principal: { AWS: 'arn:aws:iam::123456789012:user/*' } } }, 'resource', /Principal\.AWS\[0\] must be/],
    ['two set qualifiers on one operator', { Statement: { ...okStatement, Condition: { 'ForAnyValue:ForAllValues:StringEquals': { k: 'v' } } } }, 'identity', /is not supported/],
    ['a set qualifier on Null', { Statement: { ...okStatement, Condition: { 'ForAnyValue:Null': { k: 'true' } } } }, 'identity', /is not supported/],
    ['an unknown statement element', { Statement: { ...okStatement, Effects: 'Allow' } }, 'identity', /unknown element "Effects"/],
    ['a non-string Sid', { Statement: { ...okStatement, Sid: 1 } }, 'identity', /Sid must be a string/],
    ['duplicate Sids', { Statement: [{ ...okStatement, Sid: 'A' }, { ...okStatement, Sid: 'A' }] }, 'identity', /"A" repeats/],
    ['a Condition that is not an object', { Statement: { ...okStatement, Condition: 'x' } }, 'identity', /Condition must be an object/],
    ['an unknown condition operator', { Statement: { ...okStatement, Condition: { StringEqual: { k: 'v' } } } }, 'identity', /operator "StringEqual" is not supported/],
    ['Null with IfExists', { Statement: { ...okStatement, Condition: { NullIfExists: { k: 'true' } } } }, 'identity', /operator "NullIfExists" is not supported/],
    ['an empty operator block', { Statement: { ...okStatement, Condition: { StringEquals: {} } } }, 'identity', /StringEquals must map condition keys/],
    ['an empty value array', { Statement: { ...okStatement, Condition: { StringEquals: { k: [] } } } }, 'identity', /StringEquals\.k must be a string, number, boolean/],
    ['an object as a condition value', { Statement: { ...okStatement, Condition: { StringEquals: { k: { a: 1 } } } } }, 'identity', /StringEquals\.k must be/],
    ['a non-numeric Numeric value', { Statement: { ...okStatement, Condition: { NumericLessThan: { k: 'ten' } } } }, 'identity', /value "ten" must be a number/],
    ['an unparseable Date value', { Statement: { ...okStatement, Condition: { DateLessThan: { 'aws:CurrentTime': 'tomorrow' } } } }, 'identity', /must be an ISO 8601 date/],
    ['a malformed CIDR', { Statement: { ...okStatement, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/40' } } } }, 'identity', /must be an IPv4 or IPv6/],
    ['a Bool value other than true/false', { Statement: { ...okStatement, Condition: { Bool: { 'aws:SecureTransport': 'yes' } } } }, 'identity', /must be "true" or "false"/],
    ['a Null value other than true/false', { Statement: { ...okStatement, Condition: { Null: { 'aws:TagKeys': 'no' } } } }, 'identity', /must be "true" or "false"/],
  ];
  for (const [what, doc, kind, expected] of rows) {
    it(`refuses ${what}`, () => {
      const r = parsePolicy(typeof doc === 'string' ? doc : JSON.stringify(doc), kind);
      assert.ok('errors' in r, 'expected errors');
      assert.ok(r.errors.some((e) => expected.test(e)), `no error matches ${expected}: ${r.errors.join(' | ')}`);
    });
  }
  it('reports every problem at once, not only the first', () => {
    const r = parsePolicy(JSON.stringify({ Version: 'x', Statement: [{ Effect: 'Maybe', Action: 'nope' }] }), 'identity');
    assert.ok('errors' in r);
    assert.ok(r.errors.length >= 4, r.errors.join(' | '));
  });
});

describe('policy grammar: statement ids', () => {
  const twice = JSON.stringify({ Statement: [{ ...okResourceStatement, Sid: 'A' }, { ...okResourceStatement, Action: 'ecr:ListImages', Sid: 'A' }] });
  it('refuses a repeated Sid by default (IAM), and accepts it with uniqueSids false (ECR policies), keeping both statements', () => {
    assert.ok('errors' in parsePolicy(twice, 'resource'));
    const r = parsePolicy(twice, 'resource', { uniqueSids: false });
    assert.ok('policy' in r, JSON.stringify(r));
    assert.deepEqual(r.policy.statements.map((s) => [s.sid, s.action?.patterns]), [['A', ['ecr:BatchGetImage']], ['A', ['ecr:ListImages']]]);
  });
});
