import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileJavaPattern, skippedPatterns, translateJavaRegex } from '../../../src/http/aws/model/java-regex.js';
import { loadServiceModel } from '../../../src/http/aws/model/load.js';
import { validateInput } from '../../../src/http/aws/model/validate.js';
import type { ServiceModel, ServiceName } from '../../../src/http/aws/model/types.js';

const SERVICES: ServiceName[] = ['ecr', 'ecr-public', 'iam', 'sts', 'kms'];

function patternsOf(model: ServiceModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, shape] of Object.entries(model.shapes)) if (shape.type === 'string' && shape.pattern !== undefined) out.set(shape.pattern, name);
  return out;
}

describe('every model pattern compiles to a full-match JS RegExp', () => {
  for (const service of SERVICES) {
    it(`all ${service} patterns compile or are listed as skipped`, () => {
      const patterns = patternsOf(loadServiceModel(service));
      assert.ok(patterns.size > 0);
      for (const [p, shape] of patterns) {
        const re = compileJavaPattern(p);
        if (re === null) assert.ok(skippedPatterns().includes(p), `${shape}: ${p} neither compiles nor is listed`);
        else assert.match(re.source, /^\^\(\?:.*\)\$$/, `${shape} is anchored`);
      }
    });
  }

  it('the skipped list stays small (none in the shipped models today)', () => {
    for (const s of SERVICES) for (const p of patternsOf(loadServiceModel(s)).keys()) compileJavaPattern(p);
    assert.ok(skippedPatterns().length <= 2, `skipped: ${skippedPatterns().join(' | ')}`);
  });
});

describe('Java regex semantics are kept', () => {
  const matches = (java: string, s: string): boolean => {
    const re = compileJavaPattern(java);
    assert.ok(re, `${java} compiles`);
    return re.test(s);
  };

  it('patterns match the whole value, like Matcher.matches(), not a substring', () => {
    assert.equal(matches('[\\w+=,.@-]+', 'bob'), true);
    assert.equal(matches('[\\w+=,.@-]+', 'bob smith'), false);
    assert.equal(matches('[0-9]{12}', '1234567890123'), false);
    assert.equal(matches('^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\\/[a-z0-9-]+', ''), true);
  });

  it('\\p{L}\\p{Z}\\p{N} tag patterns accept letters from any script and reject other symbols', () => {
    const tag = '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*';
    assert.equal(matches(tag, 'Café Ünïcode 東京 42'), true);
    assert.equal(matches(tag, 'a<b'), false);
    assert.equal(matches(tag, 'a,b'), false);
  });

  it('escaped punctuation that is harmless in Java (\\:, \\- outside a class) is accepted', () => {
    assert.equal(matches('[\\w+=,.@\\:-]*', 'a:b@c'), true);
    assert.equal(matches('^arn:aws(-\\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\\-pullthroughcache\\/[a-zA-Z0-9\\/_+=.@-]+$', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/x'), true);
  });

  it('POSIX classes, \\Q…\\E quoting, class unions and \\A/\\z translate', () => {
    assert.equal(matches('\\p{Alpha}+\\p{Digit}', 'abc1'), true);
    assert.equal(matches('[\\p{Punct}]', '!'), true);
    assert.equal(matches('\\Qa.b\\E', 'a.b'), true);
    assert.equal(matches('\\Qa.b\\E', 'axb'), false);
    assert.equal(matches('[a-c[x-z]]+', 'abzx'), true);
    assert.equal(matches('\\Aab\\z', 'ab'), true);
    assert.equal(matches('[\\w-_]+', 'a-b_c'), true);
  });

  it('constructs with no faithful JS equivalent are skipped, not mistranslated', () => {
    for (const p of ['a++', '(?>ab)', '(?i)abc', '[a-z&&[^b]]', '\\Gx', '\\p{InGreek}']) {
      assert.equal(translateJavaRegex(p), null, p);
      assert.equal(compileJavaPattern(p), null, p);
      assert.ok(skippedPatterns().includes(p), p);
    }
  });

  it('IAM user names are checked against the model pattern through validateInput', () => {
    const iam = loadServiceModel('iam');
    assert.deepEqual(validateInput(iam, 'CreateUser', { UserName: 'bob+ci@example' }), []);
    const ps = validateInput(iam, 'CreateUser', { UserName: 'bob smith' });
    assert.deepEqual(ps.map((p) => `${p.kind} ${p.path}`), ['pattern UserName']);
    assert.equal(ps[0]!.message, "Value 'bob smith' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  });
});

describe('map constraints use the AWS "Map keys/value must satisfy constraint" wording', () => {
  const model: ServiceModel = {
    metadata: { apiVersion: '1', endpointPrefix: 't', protocol: 'json', serviceId: 'T' },
    operations: { Put: { name: 'Put', input: { shape: 'PutInput' } } },
    shapes: {
      PutInput: { type: 'structure', members: { Labels: { shape: 'Labels' } } },
      Labels: { type: 'map', key: { shape: 'LabelKey' }, value: { shape: 'LabelValue' }, max: 2 },
      LabelKey: { type: 'string', pattern: '[a-z]+', min: 1 },
      LabelValue: { type: 'string', max: 3 },
    },
  };

  it('a bad key and a long value are reported at the map path', () => {
    const ps = validateInput(model, 'Put', { Labels: { Ab: 'x', ok: 'long' } });
    assert.deepEqual(ps.map((p) => `${p.kind} ${p.path}`), ['pattern Labels', 'max Labels']);
    assert.equal(ps[0]!.message, "Value 'Ab' at 'labels' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-z]+]");
    assert.equal(ps[1]!.message, "Value 'long' at 'labels' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 3]");
  });

  it('a map with more entries than max reports max on the map', () => {
    assert.deepEqual(validateInput(model, 'Put', { Labels: { a: '1', b: '2', c: '3' } }).map((p) => p.kind), ['max']);
  });
});
