/** Table tests of lifecycle policy validation: every rule ECR documents, accepted and refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../../../src/core/errors.js';
import { MAX_POLICY_LENGTH, parseLifecyclePolicy } from '../../../src/lifecycle/policy.js';

const sel = (extra: Record<string, unknown> = {}) => ({ tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1, ...extra });
const r = (rulePriority: unknown, selection: Record<string, unknown> = sel(), action: Record<string, unknown> = { type: 'expire' }) => ({ rulePriority, selection, action });
const doc = (...rules: unknown[]) => JSON.stringify({ rules });

const ACCEPT: [string, string][] = [
  ['the untagged count example', doc(r(1))],
  ['tagged with tagPrefixList', doc(r(1, sel({ tagStatus: 'tagged', tagPrefixList: ['prod'] })))],
  ['tagged with tagPatternList of up to 4 wildcards', doc(r(1, sel({ tagStatus: 'tagged', tagPatternList: ['*test*1*2*3', 'test*1*2*3*'] })))],
  ['sinceImagePushed with countUnit days', doc(r(1, sel({ countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 })))],
  ['sinceImagePulled with countUnit days', doc(r(1, sel({ countType: 'sinceImagePulled', countUnit: 'days', countNumber: 90 })))],
  ['transition to archive', doc(r(1, sel({ countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }), { type: 'transition', targetStorageClass: 'archive' }))],
  ['expire archived images by sinceImageTransitioned', doc(r(1, sel({ storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 })))],
  ['priorities need not be sequential; any last', doc(r(10, sel({ tagStatus: 'tagged', tagPrefixList: ['a'] })), r(3), r(99, sel({ tagStatus: 'any' })))],
  ['an any rule per storage class, each last in its class', doc(r(1, sel({ tagStatus: 'any' })), r(2, sel({ tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days' })))],
  ['an untagged rule per storage class', doc(r(1), r(2, sel({ storageClass: 'archive' })))],
  ['a description', JSON.stringify({ rules: [{ ...r(1), description: 'keep one' }] })],
];

const REFUSE: [string, string, RegExp][] = [
  ['text that is not JSON', '{"rules": [', /Could not map policyString into LifecyclePolicy/],
  ['a JSON array', '[]', /Could not map policyString/],
  ['no rules', '{}', /missing required properties \(\["rules"\]\)/],
  ['an empty rule list', doc(), /at least 1 elements/],
  ['an unknown top-level property', JSON.stringify({ rules: [r(1)], x: 1 }), /not allowed by the schema: \(\["x"\]\)/],
  ['a rule without action', JSON.stringify({ rules: [{ rulePriority: 1, selection: sel() }] }), /missing required properties \(\["action"\]\) at rules\[0\]/],
  ['an unknown rule property', JSON.stringify({ rules: [{ ...r(1), priority: 2 }] }), /not allowed by the schema: \(\["priority"\]\)/],
  ['a string rulePriority', doc(r('1')), /allowed: \["integer"\]\) at rulePriority/],
  ['rulePriority 0', doc(r(0)), /minimum: 1, found: 0\) at rulePriority/],
  ['duplicate rulePriority', doc(r(1), r(1, sel({ tagStatus: 'tagged', tagPrefixList: ['a'] }))), /rulePriority 1 is used by more than one rule/],
  ['any not last', doc(r(1, sel({ tagStatus: 'any' })), r(2)), /Rule for tagStatus=ANY must have the lowest priority per storage class \(rule with rulePriority 1\)/],
  ['two untagged rules', doc(r(1), r(2, sel({ countType: 'sinceImagePushed', countUnit: 'days' }))), /Only one rule can select Untagged images per storage class \(rule with rulePriority 2\)/],
  ['an unknown tagStatus', doc(r(1, sel({ tagStatus: 'TAGGED' }))), /instance value \("TAGGED"\) not found in enum .* at tagStatus \(rule with rulePriority 1\)/],
  ['tagged without a list', doc(r(3, sel({ tagStatus: 'tagged' }))), /Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED\. \(rule with rulePriority 3\)/],
  ['both lists', doc(r(1, sel({ tagStatus: 'tagged', tagPrefixList: ['a'], tagPatternList: ['b*'] }))), /both tagPrefixList and tagPatternList/],
  ['a prefix list on untagged', doc(r(1, sel({ tagPrefixList: ['a'] }))), /tagPrefixList can only be used when tagStatus=TAGGED/],
  ['a pattern list on any', doc(r(1, sel({ tagStatus: 'any', tagPatternList: ['a*'] }))), /tagPatternList can only be used when tagStatus=TAGGED/],
  ['an empty prefix list', doc(r(1, sel({ tagStatus: 'tagged', tagPrefixList: [] }))), /tagPrefixList must not be empty/],
  ['an empty pattern', doc(r(1, sel({ tagStatus: 'tagged', tagPatternList: [''] }))), /must not contain empty strings/],
  ['five wildcards in one pattern', doc(r(1, sel({ tagStatus: 'tagged', tagPatternList: ['test*1*2*3*4*5'] }))), /more than 4 wildcards/],
  ['an unknown countType', doc(r(1, sel({ countType: 'sinceImageBuilt' }))), /not found in enum .* at countType/],
  ['countUnit with imageCountMoreThan', doc(r(1, sel({ countUnit: 'days' }))), /countUnit is not allowed when countType=imageCountMoreThan/],
  ['sinceImagePushed without countUnit', doc(r(1, sel({ countType: 'sinceImagePushed' }))), /countUnit is required when countType=sinceImagePushed/],
  ['countUnit hours', doc(r(1, sel({ countType: 'sinceImagePushed', countUnit: 'hours' }))), /instance value \("hours"\) not found in enum \(possible values: \["days"\]\)/],
  ['countNumber 0', doc(r(1, sel({ countNumber: 0 }))), /minimum: 1, found: 0\) at countNumber/],
  ['a fractional countNumber', doc(r(1, sel({ countNumber: 1.5 }))), /allowed: \["integer"\]\) at countNumber/],
  ['sinceImageTransitioned on standard images', doc(r(1, sel({ countType: 'sinceImageTransitioned', countUnit: 'days' }))), /sinceImageTransitioned requires storageClass=archive/],
  ['an unknown storageClass', doc(r(1, sel({ storageClass: 'glacier' }))), /at storageClass/],
  ['an unknown action type', doc(r(1, sel(), { type: 'delete' })), /instance value \("delete"\) not found in enum .* at action\.type/],
  ['transition without targetStorageClass', doc(r(1, sel(), { type: 'transition' })), /targetStorageClass is required when action type=transition/],
  ['transition to standard', doc(r(1, sel(), { type: 'transition', targetStorageClass: 'standard' })), /at action\.targetStorageClass/],
  ['targetStorageClass on expire', doc(r(1, sel(), { type: 'expire', targetStorageClass: 'archive' })), /targetStorageClass can only be used when action type=transition/],
  ['transition of archived images', doc(r(1, sel({ storageClass: 'archive' }), { type: 'transition', targetStorageClass: 'archive' })), /can only be expired/],
  ['text over 30,720 characters', JSON.stringify({ rules: [{ ...r(1), description: 'x'.repeat(MAX_POLICY_LENGTH) }] }), /longer than 30720 characters/],
];

describe('lifecycle policy validation', () => {
  for (const [name, text] of ACCEPT) {
    it(`accepts ${name}`, () => {
      const p = parseLifecyclePolicy(text);
      assert.ok(p.rules.length >= 1);
      for (let i = 1; i < p.rules.length; i++) assert.ok(p.rules[i - 1]!.rulePriority < p.rules[i]!.rulePriority);
    });
  }
  for (const [name, text, message] of REFUSE) {
    it(`refuses ${name} with InvalidParameter naming the fault`, () => {
      assert.throws(() => parseLifecyclePolicy(text), (err: unknown) => {
        assert.ok(isBerthError(err));
        assert.equal(err.code, 'InvalidParameter');
        assert.match(err.message, /^Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
