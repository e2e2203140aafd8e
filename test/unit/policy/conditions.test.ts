import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConditionValue } from '../../../src/auth/policy/index.js';
import { allow, ask, policy } from './helpers.js';

type Row = [behaviour: string, condition: Record<string, Record<string, unknown>>, context: Record<string, ConditionValue>, allowed: boolean];

/** Runs each row as an identity Allow of ecr:* guarded by the condition: Allow iff the condition holds. */
function table(title: string, rows: Row[]): void {
  describe(title, () => {
    for (const [behaviour, condition, context, allowed] of rows) {
      it(behaviour, () => {
        const r = ask({ identity: [allow('ecr:*', '*', { Condition: condition })], context });
        assert.equal(r.decision, allowed ? 'Allow' : 'ImplicitDeny', r.reason);
      });
    }
  });
}

const NOW = '2024-06-01T12:00:00Z';

table('string operators', [
  ['StringEquals matches an exact value', { StringEquals: { 'aws:RequestTag/env': 'prod' } }, { 'aws:RequestTag/env': 'prod' }, true],
  ['StringEquals is case-sensitive', { StringEquals: { 'aws:RequestTag/env': 'prod' } }, { 'aws:RequestTag/env': 'Prod' }, false],
  ['StringEquals ORs the values listed for one key', { StringEquals: { 'aws:RequestTag/env': ['dev', 'prod'] } }, { 'aws:RequestTag/env': 'prod' }, true],
  ['StringEquals treats * literally', { StringEquals: { 'aws:RequestTag/env': 'p*' } }, { 'aws:RequestTag/env': 'prod' }, false],
  ['StringEquals with a missing key is false', { StringEquals: { 'aws:RequestTag/env': 'prod' } }, {}, false],
  ['StringNotEquals is true for a different value', { StringNotEquals: { 'aws:RequestTag/env': 'prod' } }, { 'aws:RequestTag/env': 'dev' }, true],
  ['StringNotEquals with several values means "none of them"', { StringNotEquals: { 'aws:RequestTag/env': ['dev', 'prod'] } }, { 'aws:RequestTag/env': 'prod' }, false],
  ['StringNotEquals with a missing key is true', { StringNotEquals: { 'aws:RequestTag/env': 'prod' } }, {}, true],
  ['StringEqualsIgnoreCase ignores case', { StringEqualsIgnoreCase: { 'aws:RequestTag/env': 'PROD' } }, { 'aws:RequestTag/env': 'prod' }, true],
  ['StringNotEqualsIgnoreCase ignores case', { StringNotEqualsIgnoreCase: { 'aws:RequestTag/env': 'PROD' } }, { 'aws:RequestTag/env': 'prod' }, false],
  ['StringLike supports * wildcards', { StringLike: { 'aws:RequestTag/env': 'pr*' } }, { 'aws:RequestTag/env': 'prod' }, true],
  ['StringLike supports ? wildcards', { StringLike: { 'aws:RequestTag/env': 'pro?' } }, { 'aws:RequestTag/env': 'prod' }, true],
  ['StringLike is case-sensitive', { StringLike: { 'aws:RequestTag/env': 'PR*' } }, { 'aws:RequestTag/env': 'prod' }, false],
  ['StringNotLike excludes matching values', { StringNotLike: { 'aws:RequestTag/env': 'pr*' } }, { 'aws:RequestTag/env': 'prod' }, false],
  ['StringNotLike with a missing key is true', { StringNotLike: { 'aws:RequestTag/env': 'pr*' } }, {}, true],
  ['condition keys are case-insensitive', { StringEquals: { 'AWS:REQUESTTAG/ENV': 'prod' } }, { 'aws:requesttag/env': 'prod' }, true],
  ['several keys in one operator are ANDed', { StringEquals: { 'aws:RequestTag/env': 'prod', 'aws:RequestTag/team': 'a' } }, { 'aws:RequestTag/env': 'prod', 'aws:RequestTag/team': 'b' }, false],
  ['several operators are ANDed', { StringEquals: { 'aws:RequestTag/env': 'prod' }, Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:RequestTag/env': 'prod', 'aws:SecureTransport': false }, false],
  ['ecr:ResourceTag keys are looked up like any other', { StringEquals: { 'ecr:ResourceTag/env': 'prod' } }, { 'ecr:ResourceTag/env': 'prod' }, true],
]);

table('ARN operators', [
  ['ArnEquals matches the same ARN', { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:user/alice' } }, {}, true],
  ['ArnLike matches per segment with wildcards', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/*' } }, {}, true],
  ['ArnLike does not let * cross a segment', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam:*:user/alice' } }, {}, false],
  ['ArnNotEquals is false for the same ARN', { ArnNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:user/alice' } }, {}, false],
  ['ArnNotLike is true for a non-matching ARN', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/*' } }, {}, true],
  ['ArnLike with a missing key is false', { ArnLike: { 'aws:SourceArn': 'arn:aws:*' } }, {}, false],
  ['ArnNotLike with a missing key is true', { ArnNotLike: { 'aws:SourceArn': 'arn:aws:*' } }, {}, true],
]);

table('numeric operators', [
  ['NumericEquals compares numbers, not strings', { NumericEquals: { 'ecr:n': '10' } }, { 'ecr:n': '10.0' }, true],
  ['NumericEquals accepts a number context value', { NumericEquals: { 'ecr:n': 10 } }, { 'ecr:n': 10 }, true],
  ['NumericNotEquals is false for an equal number', { NumericNotEquals: { 'ecr:n': '10' } }, { 'ecr:n': 10 }, false],
  ['NumericLessThan is strict', { NumericLessThan: { 'ecr:n': '10' } }, { 'ecr:n': 10 }, false],
  ['NumericLessThanEquals includes the bound', { NumericLessThanEquals: { 'ecr:n': '10' } }, { 'ecr:n': 10 }, true],
  ['NumericGreaterThan is strict', { NumericGreaterThan: { 'ecr:n': '10' } }, { 'ecr:n': 11 }, true],
  ['NumericGreaterThanEquals includes the bound', { NumericGreaterThanEquals: { 'ecr:n': '10' } }, { 'ecr:n': 9 }, false],
  ['a non-numeric request value never matches', { NumericGreaterThan: { 'ecr:n': '1' } }, { 'ecr:n': 'many' }, false],
  ['NumericLessThan with a missing key is false', { NumericLessThan: { 'ecr:n': '10' } }, {}, false],
]);

table('date operators with aws:CurrentTime', [
  ['DateLessThan is true before the bound', { DateLessThan: { 'aws:CurrentTime': '2025-01-01T00:00:00Z' } }, { 'aws:CurrentTime': NOW }, true],
  ['DateLessThan is false after the bound', { DateLessThan: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } }, { 'aws:CurrentTime': NOW }, false],
  ['DateGreaterThan accepts a Date object in the context', { DateGreaterThan: { 'aws:CurrentTime': '2024-01-01' } }, { 'aws:CurrentTime': new Date(NOW) }, true],
  ['DateEquals compares instants across time zones', { DateEquals: { 'aws:CurrentTime': '2024-06-01T14:00:00+02:00' } }, { 'aws:CurrentTime': NOW }, true],
  ['DateNotEquals is false for the same instant', { DateNotEquals: { 'aws:CurrentTime': NOW } }, { 'aws:CurrentTime': NOW }, false],
  ['DateLessThanEquals includes the bound', { DateLessThanEquals: { 'aws:CurrentTime': NOW } }, { 'aws:CurrentTime': NOW }, true],
  ['DateGreaterThanEquals includes the bound', { DateGreaterThanEquals: { 'aws:CurrentTime': NOW } }, { 'aws:CurrentTime': NOW }, true],
  ['policy dates may be epoch seconds', { DateGreaterThan: { 'aws:CurrentTime': '1700000000' } }, { 'aws:CurrentTime': NOW }, true],
  ['aws:EpochTime numbers compare as epoch seconds', { DateLessThan: { 'aws:EpochTime': '2024-06-01T12:00:01Z' } }, { 'aws:EpochTime': Date.parse(NOW) / 1000 }, true],
  ['a date condition without the key is false', { DateLessThan: { 'aws:CurrentTime': '2999-01-01' } }, {}, false],
]);

table('Bool, Null and BinaryEquals', [
  ['Bool true matches a boolean true', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': true }, true],
  ['Bool true does not match false', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': false }, false],
  ['Bool compares string values case-insensitively', { Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'FALSE' }, true],
  ['Bool with a missing key is false', { Bool: { 'aws:SecureTransport': 'false' } }, {}, false],
  ['BoolIfExists with a missing key is true', { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' } }, {}, true],
  ['Null true holds when the key is absent', { Null: { 'aws:RequestTag/env': 'true' } }, {}, true],
  ['Null true fails when the key is present', { Null: { 'aws:RequestTag/env': 'true' } }, { 'aws:RequestTag/env': 'x' }, false],
  ['Null false holds when the key is present', { Null: { 'aws:RequestTag/env': 'false' } }, { 'aws:RequestTag/env': 'x' }, true],
  ['Null false fails when the key is absent', { Null: { 'aws:RequestTag/env': 'false' } }, {}, false],
  ['Null treats an empty multi-valued key as absent', { Null: { 'aws:TagKeys': 'true' } }, { 'aws:TagKeys': [] }, true],
  ['BinaryEquals compares base64 values', { BinaryEquals: { 'ecr:blob': 'QmluYXJ5' } }, { 'ecr:blob': 'QmluYXJ5' }, true],
]);

table('IP address operators', [
  ['IpAddress matches an IPv4 source inside the block', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.7' }, true],
  ['IpAddress refuses an IPv4 source outside the block', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '198.51.100.1' }, false],
  ['IpAddress matches an IPv6 source inside the block', { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, { 'aws:SourceIp': '2001:db8::42' }, true],
  ['IpAddress ORs v4 and v6 blocks', { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:db8::/32'] } }, { 'aws:SourceIp': '2001:db8::42' }, true],
  ['NotIpAddress refuses a source inside any block', { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } }, { 'aws:SourceIp': '10.9.9.9' }, false],
  ['NotIpAddress holds for a source outside every block', { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8'] } }, { 'aws:SourceIp': '192.0.2.1' }, true],
  ['a garbage source address never matches IpAddress', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': 'localhost' }, false],
  ['IpAddress with a missing key is false', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, {}, false],
  ['NotIpAddress with a missing key is true', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, {}, true],
]);

table('IfExists', [
  ['StringEqualsIfExists is true when the key is missing', { StringEqualsIfExists: { 'aws:RequestTag/env': 'prod' } }, {}, true],
  ['StringEqualsIfExists still checks a present key', { StringEqualsIfExists: { 'aws:RequestTag/env': 'prod' } }, { 'aws:RequestTag/env': 'dev' }, false],
  ['NumericLessThanIfExists is true when the key is missing', { NumericLessThanIfExists: { 'ecr:n': '1' } }, {}, true],
  ['IpAddressIfExists is true when the key is missing', { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, {}, true],
  ['DateLessThanIfExists checks a present key', { DateLessThanIfExists: { 'aws:CurrentTime': '2000-01-01' } }, { 'aws:CurrentTime': NOW }, false],
  ['ArnLikeIfExists is true when the key is missing', { ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:ecr:*' } }, {}, true],
]);

table('set qualifiers on multi-valued keys', [
  ['ForAnyValue holds when one request value matches', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['env', 'cost'] }, true],
  ['ForAnyValue fails when no request value matches', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': ['cost'] }, false],
  ['ForAnyValue with a missing key is false', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, {}, false],
  ['ForAnyValue with an empty key is false', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': [] }, false],
  ['ForAllValues holds when every request value is allowed', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['team', 'env'] }, true],
  ['ForAllValues fails when one request value is not allowed', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['env', 'cost'] }, false],
  ['ForAllValues with a missing key is true', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, {}, true],
  ['ForAllValues with an empty key is true', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': [] }, true],
  ['ForAllValues:StringLike applies wildcards to every value', { 'ForAllValues:StringLike': { 'aws:TagKeys': ['team-*'] } }, { 'aws:TagKeys': ['team-a', 'team-b'] }, true],
  ['ForAnyValue:StringNotEquals holds when some value is outside the list', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': ['env', 'cost'] }, true],
  ['ForAllValues:StringNotEquals fails when some value is in the list', { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': ['env', 'cost'] }, false],
  ['ForAnyValue:StringEqualsIfExists is true when the key is missing', { 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': ['env'] } }, {}, true],
  ['an unqualified operator on a multi-valued key matches any value', { StringEquals: { 'aws:TagKeys': 'env' } }, { 'aws:TagKeys': ['cost', 'env'] }, true],
]);

table('policy variables in condition values', [
  ['${aws:username} is substituted into StringEquals', { StringEquals: { 'aws:RequestTag/owner': '${aws:username}' } }, { 'aws:RequestTag/owner': 'alice' }, true],
  ['${aws:username} does not match another user', { StringEquals: { 'aws:RequestTag/owner': '${aws:username}' } }, { 'aws:RequestTag/owner': 'bob' }, false],
  ['${aws:PrincipalAccount} is substituted into StringLike', { StringLike: { 'ecr:x': 'acct-${aws:PrincipalAccount}-*' } }, { 'ecr:x': 'acct-111122223333-1' }, true],
  ['tag keys resolve as variables too', { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } }, { 'aws:ResourceTag/team': 'red', 'aws:PrincipalTag/team': 'red' }, true],
  ['an unresolvable variable makes a positive condition false', { StringEquals: { 'ecr:x': '${aws:PrincipalTag/none}' } }, { 'ecr:x': '' }, false],
  ['an unresolvable variable makes a negated condition false too', { StringNotEquals: { 'ecr:x': '${aws:PrincipalTag/none}' } }, { 'ecr:x': 'y' }, false],
  ['a multi-valued key cannot be a variable', { StringEquals: { 'ecr:x': '${aws:TagKeys}' } }, { 'ecr:x': 'a', 'aws:TagKeys': ['a'] }, false],
  ['${*} in StringLike is a literal star', { StringLike: { 'ecr:x': 'a${*}' } }, { 'ecr:x': 'ab' }, false],
]);

describe('policy variables and the Version element', () => {
  it('variables are literal text under Version 2008-10-17', () => {
    const old = policy({ Version: '2008-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'ecr:x': '${aws:username}' } } } });
    assert.equal(ask({ identity: [old], context: { 'ecr:x': 'alice' } }).decision, 'ImplicitDeny');
    assert.equal(ask({ identity: [old], context: { 'ecr:x': '${aws:username}' } }).decision, 'Allow');
  });
  it('variables are literal text when Version is omitted', () => {
    const noVersion = policy({ Statement: { Effect: 'Allow', Action: '*', Resource: 'arn:aws:ecr:*:*:repository/${aws:username}' } });
    assert.equal(ask({ identity: [noVersion], resource: 'arn:aws:ecr:us-east-1:111122223333:repository/alice' }).decision, 'ImplicitDeny');
  });
});
