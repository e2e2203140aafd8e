import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionMatches, arnMatches } from '../../../src/auth/policy/index.js';
import { cidrContains, parseCidr, parseIp } from '../../../src/auth/policy/cidr.js';
import { matchArn, matchString } from '../../../src/auth/policy/wildcard.js';
import { ACCT, REPO } from './helpers.js';

describe('action patterns', () => {
  const rows: [string, string, boolean, string][] = [
    ['*', 'ecr:PutImage', true, 'a bare * matches every action'],
    ['ecr:*', 'ecr:PutImage', true, 'service:* matches every action of the service'],
    ['ecr:*', 'ecr-public:PutImage', false, 'service:* does not match another service sharing a prefix'],
    ['ecr:Batch*', 'ecr:BatchGetImage', true, 'a trailing * matches a suffix'],
    ['ecr:Batch*', 'ecr:GetDownloadUrlForLayer', false, 'a prefix pattern does not match other actions'],
    ['ECR:batchgetimage', 'ecr:BatchGetImage', true, 'service and action names are case-insensitive'],
    ['ecr:*Image', 'ecr:PutImage', true, 'a leading * matches a prefix'],
    ['ecr:?utImage', 'ecr:PutImage', true, '? matches exactly one character'],
    ['ecr:?utImage', 'ecr:PPutImage', false, '? does not match two characters'],
    ['ecr:Get*Layer', 'ecr:GetDownloadUrlForLayer', true, 'a * in the middle spans characters'],
    ['ecr:PutImage', 'ecr:PutImageScanningConfiguration', false, 'an exact action is not a prefix match'],
    ['iam:*AccessKey*', 'iam:CreateAccessKey', true, 'several * work together'],
  ];
  for (const [pattern, action, expected, behaviour] of rows) {
    it(`${behaviour} (${pattern} vs ${action})`, () => assert.equal(actionMatches(pattern, action), expected));
  }
});

describe('ARN patterns', () => {
  const rows: [string, string, boolean, string][] = [
    ['*', REPO, true, '* matches any ARN'],
    [REPO, REPO, true, 'an exact ARN matches itself'],
    [`arn:aws:ecr:us-east-1:${ACCT}:repository/*`, REPO, true, '* in the resource part spans "/"'],
    [`arn:aws:ecr:us-east-1:${ACCT}:repository/team/*`, REPO, true, 'a path prefix matches repositories under it'],
    [`arn:aws:ecr:us-east-1:${ACCT}:repository/other/*`, REPO, false, 'a different path prefix does not match'],
    [`arn:aws:ecr:*:${ACCT}:repository/team/app`, REPO, true, '* matches any region'],
    ['arn:aws:ecr:*:*:repository/team/app', REPO, true, '* matches any account'],
    [`arn:aws:ecr:us-east-?:${ACCT}:repository/team/app`, REPO, true, '? matches one character in a segment'],
    [`arn:aws:ecr:us-*:repository/team/app`, REPO, false, '* in one segment never swallows the next segment'],
    [`arn:aws:ecr:us-east-1:${ACCT}:repository/TEAM/app`, REPO, false, 'ARN matching is case-sensitive'],
    [`arn:aws:ecr:us-east-1:${ACCT}:repository/team`, REPO, false, 'a repository ARN does not match a nested repository'],
    [`arn:aws:ecr:us-east-1:${ACCT}:*`, REPO, true, 'a * resource part matches every resource of the account'],
    [`arn:aws:ecr:us-east-1:${ACCT}:*`, `arn:aws:ecr:us-east-1:${ACCT}:repository/a:b`, true, 'the resource part may contain ":"'],
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b', true, 'empty region and account segments match empty'],
    ['arn:aws:s3:::bucket/*', REPO, false, 'another service does not match'],
    [`arn:aws:ecr:us-east-1:${ACCT}:repository/team/app`, 'not-an-arn', false, 'a non-ARN resource only matches *'],
  ];
  for (const [pattern, arn, expected, behaviour] of rows) {
    it(`${behaviour}`, () => assert.equal(arnMatches(pattern, arn), expected));
  }
});

describe('policy variables', () => {
  const vars = (key: string): string | undefined =>
    ({ 'aws:username': 'alice', 'aws:principalaccount': ACCT, 'aws:tricky': 'a*b' } as Record<string, string>)[key.toLowerCase()];
  const rows: [string, string, boolean | undefined, string][] = [
    ['home/${aws:username}/*', 'home/alice/x', true, '${aws:username} is replaced by the user name'],
    ['home/${aws:username}/*', 'home/bob/x', false, 'the substituted name must match exactly'],
    ['home/${AWS:UserName}', 'home/alice', true, 'variable names are case-insensitive'],
    ['home/${aws:missing}', 'home/x', undefined, 'an unresolvable variable makes the pattern unusable'],
    ["home/${aws:missing, 'guest'}", 'home/guest', true, 'a default value stands in for a missing key'],
    ["${aws:missing, 'it''s'}", "it's", true, "'' inside a default is a literal quote"],
    ['a${*}b', 'a*b', true, '${*} is a literal star'],
    ['a${*}b', 'axb', false, '${*} is not a wildcard'],
    ['a${?}b', 'a?b', true, '${?} is a literal question mark'],
    ['cost${$}', 'cost$', true, '${$} is a literal dollar'],
    ['x/${aws:tricky}', 'x/aXXb', false, 'a * inside a substituted value stays literal'],
    ['x/${aws:tricky}', 'x/a*b', true, 'a substituted value matches itself literally'],
    ['${unclosed', '${unclosed', true, 'an unclosed ${ is literal text'],
  ];
  for (const [pattern, value, expected, behaviour] of rows) {
    it(behaviour, () => assert.equal(matchString(pattern, value, { wildcards: true, ignoreCase: false, variables: vars }), expected));
  }
  it('an ARN pattern with ${aws:PrincipalAccount} matches the caller\'s account', () => {
    assert.equal(matchArn('arn:aws:ecr:*:${aws:PrincipalAccount}:repository/*', REPO, vars), true);
  });
  it('a substituted value containing ":" does not create ARN segments', () => {
    const v = (): string => 'team:app';
    assert.equal(matchArn(`arn:aws:ecr:us-east-1:${ACCT}:repository/\${x}`, `arn:aws:ecr:us-east-1:${ACCT}:repository/team:app`, v), true);
  });
});

describe('IP addresses and CIDR blocks', () => {
  const rows: [string, string, boolean, string][] = [
    ['10.0.0.0/8', '10.1.2.3', true, 'an IPv4 address inside a /8 matches'],
    ['10.0.0.0/8', '11.0.0.1', false, 'an IPv4 address outside the block does not match'],
    ['192.168.1.7', '192.168.1.7', true, 'a bare IPv4 address is a /32'],
    ['192.168.1.7', '192.168.1.8', false, 'a /32 matches only itself'],
    ['0.0.0.0/0', '8.8.8.8', true, '/0 matches every IPv4 address'],
    ['203.0.113.0/24', '::ffff:203.0.113.9', true, 'an IPv4-mapped IPv6 caller matches its IPv4 block'],
    ['2001:db8::/32', '2001:db8:1:2::3', true, 'an IPv6 address inside a /32 matches'],
    ['2001:db8::/32', '2001:db9::1', false, 'an IPv6 address outside the block does not match'],
    ['2001:DB8::1', '2001:db8:0:0:0:0:0:1', true, 'IPv6 is compared numerically, case- and compression-insensitive'],
    ['::/0', '::1', true, '::/0 matches every IPv6 address'],
    ['::/0', '10.0.0.1', false, 'an IPv6 block never matches an IPv4 address'],
    ['10.0.0.0/8', '2001:db8::1', false, 'an IPv4 block never matches an IPv6 address'],
    ['::ffff:10.0.0.0/104', '10.200.0.1', true, 'an IPv4-mapped IPv6 block is the IPv4 block'],
  ];
  for (const [block, ip, expected, behaviour] of rows) {
    it(behaviour, () => {
      const b = parseCidr(block);
      const a = parseIp(ip);
      assert.ok(b && a);
      assert.equal(cidrContains(b, a), expected);
    });
  }
  for (const bad of ['10.0.0.256', '10.0.0', '10.0.0.0/33', '1:2:3:4:5:6:7:8:9', '1::2::3', 'fe80::1%eth0', '::/129', '10.0.0.0/8/1', 'abc']) {
    it(`refuses the malformed address or block ${JSON.stringify(bad)}`, () => assert.equal(parseCidr(bad), undefined));
  }
});
