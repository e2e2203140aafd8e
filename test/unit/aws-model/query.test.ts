import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServiceModel } from '../../../src/http/aws/model/load.js';
import { formatValidationMessage } from '../../../src/http/aws/model/messages.js';
import { parseQueryInput } from '../../../src/http/aws/model/query-params.js';
import type { ServiceModel } from '../../../src/http/aws/model/types.js';

const iam = loadServiceModel('iam');
const sts = loadServiceModel('sts');
const form = (s: string): URLSearchParams => new URLSearchParams(s);
const brief = (ps: { kind: string; path: string }[]): string[] => ps.map((p) => `${p.kind} ${p.path}`);
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] });

describe('parseQueryInput: IAM requests as the AWS CLI sends them', () => {
  it('CreateUser with a path, a permissions boundary and tags', () => {
    const r = parseQueryInput(iam, 'CreateUser', form(
      'Action=CreateUser&Version=2010-05-08&UserName=bob&Path=%2Fci%2F' +
        '&PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fb' +
        '&Tags.member.1.Key=team&Tags.member.1.Value=platform&Tags.member.2.Key=env&Tags.member.2.Value=prod',
    ));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.input, {
      UserName: 'bob',
      Path: '/ci/',
      PermissionsBoundary: 'arn:aws:iam::123456789012:policy/b',
      Tags: [{ Key: 'team', Value: 'platform' }, { Key: 'env', Value: 'prod' }],
    });
  });

  it('PutUserPolicy keeps the URL-decoded policy document intact', () => {
    const params = new URLSearchParams({ Action: 'PutUserPolicy', Version: '2010-05-08', UserName: 'bob', PolicyName: 'ecr-all', PolicyDocument: POLICY });
    const r = parseQueryInput(iam, 'PutUserPolicy', params);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.input, { UserName: 'bob', PolicyName: 'ecr-all', PolicyDocument: POLICY });
  });

  it('TagUser orders Tags.member.N by index, not by parameter order', () => {
    const r = parseQueryInput(iam, 'TagUser', form('UserName=bob&Tags.member.2.Key=b&Tags.member.10.Key=c&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Value=2&Tags.member.10.Value=3'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.input.Tags, [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }, { Key: 'c', Value: '3' }]);
  });

  it('TagUser reports a bad tag value at the AWS path tags.N.member.value', () => {
    const r = parseQueryInput(iam, 'TagUser', form('UserName=bob&Tags.member.1.Key=a&Tags.member.1.Value=ok&Tags.member.2.Key=b&Tags.member.2.Value=x%3Cy'));
    assert.deepEqual(brief(r.problems), ['pattern Tags[1].Value']);
    assert.equal(
      formatValidationMessage(r.problems),
      "1 validation error detected: Value 'x<y' at 'tags.2.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
    );
  });

  it('TagUser without Tags, and a tag without its Value, report the missing required members', () => {
    assert.deepEqual(brief(parseQueryInput(iam, 'TagUser', form('UserName=bob')).problems), ['required Tags']);
    assert.deepEqual(brief(parseQueryInput(iam, 'TagUser', form('UserName=bob&Tags.member.1.Key=a')).problems), ['required Tags[0].Value']);
  });

  it('an empty list parameter (Tags=) is an empty list, which the model then bounds', () => {
    const r = parseQueryInput(iam, 'UntagUser', form('UserName=bob&TagKeys='));
    assert.deepEqual(r.input.TagKeys, []);
    assert.deepEqual(r.problems, []);
  });

  it('integers and booleans are parsed; bad ones are type problems reported once', () => {
    const ok = parseQueryInput(iam, 'ListUsers', form('MaxItems=50&PathPrefix=%2F'));
    assert.deepEqual(ok.input, { MaxItems: 50, PathPrefix: '/' });
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(brief(parseQueryInput(iam, 'ListUsers', form('MaxItems=0')).problems), ['min MaxItems']);
    const bad = parseQueryInput(iam, 'ListUsers', form('MaxItems=ten'));
    assert.deepEqual(brief(bad.problems), ['type MaxItems']);
    assert.equal(bad.problems[0]!.message, "Value at 'maxItems' must be an integer, not the string 'ten'");
    const pw = parseQueryInput(iam, 'CreateLoginProfile', form('UserName=bob&Password=Secret-123&PasswordResetRequired=true'));
    assert.deepEqual(pw.input, { UserName: 'bob', Password: 'Secret-123', PasswordResetRequired: true });
    assert.deepEqual(brief(parseQueryInput(iam, 'CreateLoginProfile', form('UserName=bob&PasswordResetRequired=maybe')).problems), ['type PasswordResetRequired']);
  });

  it('unknown parameters are reported by name; Action and Version are not', () => {
    const r = parseQueryInput(iam, 'CreateUser', form('Action=CreateUser&Version=2010-05-08&UserName=bob&Username=bob'));
    assert.deepEqual(brief(r.problems), ['unknown Username']);
    assert.match(r.problems[0]!.message, /did you mean 'UserName'/);
    assert.deepEqual(brief(parseQueryInput(iam, 'TagUser', form('UserName=b&Tags.item.1.Key=a&Tags.item.1.Value=v')).problems), ['unknown Tags.item']);
  });

  it('STS AssumeRole parses DurationSeconds and enforces its range', () => {
    const base = 'RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci&RoleSessionName=s1';
    assert.deepEqual(parseQueryInput(sts, 'AssumeRole', form(`${base}&DurationSeconds=3600`)).input.DurationSeconds, 3600);
    const short = parseQueryInput(sts, 'AssumeRole', form(`${base}&DurationSeconds=60`));
    assert.equal(short.problems[0]?.message, "Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900");
  });

  it('an operation with no input accepts only Action and Version', () => {
    assert.deepEqual(parseQueryInput(sts, 'GetCallerIdentity', form('Action=GetCallerIdentity&Version=2011-06-15')), { input: {}, problems: [] });
    assert.deepEqual(brief(parseQueryInput(sts, 'GetCallerIdentity', form('Extra=1')).problems), ['unknown Extra']);
  });
});

describe('parseQueryInput: maps as entry.N.key / entry.N.value', () => {
  const model: ServiceModel = {
    metadata: { apiVersion: '1', endpointPrefix: 't', protocol: 'query', serviceId: 'T' },
    operations: { SetAttributes: { name: 'SetAttributes', input: { shape: 'In' } } },
    shapes: {
      In: { type: 'structure', required: ['Attributes'], members: { Attributes: { shape: 'Attrs' }, Count: { shape: 'N' } } },
      Attrs: { type: 'map', key: { shape: 'S' }, value: { shape: 'N' } },
      S: { type: 'string' },
      N: { type: 'integer' },
    },
  };

  it('turns entries into an object with typed values', () => {
    const r = parseQueryInput(model, 'SetAttributes', form('Attributes.entry.1.key=a&Attributes.entry.1.value=1&Attributes.entry.2.key=b&Attributes.entry.2.value=2'));
    assert.deepEqual(r, { input: { Attributes: { a: 1, b: 2 } }, problems: [] });
  });

  it('reports an entry without a key and a value of the wrong type', () => {
    const r = parseQueryInput(model, 'SetAttributes', form('Attributes.entry.1.value=1&Attributes.entry.2.key=b&Attributes.entry.2.value=x'));
    assert.deepEqual(brief(r.problems), ['type Attributes', 'type Attributes.b']);
  });
});
