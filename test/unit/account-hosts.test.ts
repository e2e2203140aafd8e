import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccountHosts } from '../../src/http/account-hosts.js';
import { validateConfig } from '../../src/config/load.js';

const DEFAULT = '000000000000';
const hosts = (pattern = '{account}.{host}', map: Record<string, string> = {}) =>
  new AccountHosts({ pattern, map, region: 'eu-west-1', defaultAccountId: DEFAULT });

describe('account hosts: which account a Host header addresses', () => {
  const cases: [string, string | undefined, string][] = [
    ['{account}.{host}', '123456789012.localhost:5000', '123456789012'],
    ['{account}.{host}', '123456789012.registry.example.com', '123456789012'],
    ['{account}.{host}', '123456789012.Registry.Example.COM.:443', '123456789012'],
    ['{account}.{host}', 'localhost:5000', DEFAULT],
    ['{account}.{host}', '127.0.0.1:5000', DEFAULT],
    ['{account}.{host}', '[::1]:5000', DEFAULT],
    ['{account}.{host}', undefined, DEFAULT],
    ['{account}.{host}', '12345678901.localhost', DEFAULT],
    ['{account}.{host}', '1234567890123.localhost', DEFAULT],
    ['{account}.{host}', 'x123456789012.localhost', DEFAULT],
    ['{account}.dkr.ecr.{region}.amazonaws.com', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', '123456789012'],
    ['{account}.dkr.ecr.{region}.amazonaws.com', '123456789012.dkr.ecr.us-east-1.amazonaws.com', DEFAULT],
    ['{account}.dkr.ecr.{region}.amazonaws.com', '123456789012.dkrxecr.eu-west-1.amazonaws.com', DEFAULT],
  ];
  for (const [pattern, host, account] of cases) {
    it(`${pattern}: ${String(host)} → ${account}`, () => assert.equal(hosts(pattern).accountOf(host), account));
  }

  it('an explicit mapping wins over the pattern, ignoring case and port', () => {
    const h = hosts('{account}.{host}', { 'Registry-B.example.com': '111122223333' });
    assert.equal(h.accountOf('registry-b.example.com:8443'), '111122223333');
    assert.equal(h.accountOf('222233334444.example.com'), '222233334444');
  });
});

describe('account hosts: the origin each account is named by', () => {
  const cases: [string, Record<string, string>, string, string, string][] = [
    ['{account}.{host}', {}, '123456789012', 'http://registry.example.com:5000', 'http://123456789012.registry.example.com:5000'],
    ['{account}.{host}', {}, DEFAULT, 'http://registry.example.com:5000', 'http://registry.example.com:5000'],
    ['{account}.{host}', {}, '123456789012', 'http://127.0.0.1:5000', 'http://123456789012.localhost:5000'],
    ['{account}.{host}', {}, '123456789012', 'http://[::1]:5000', 'http://123456789012.localhost:5000'],
    ['{account}.{host}', {}, DEFAULT, 'http://127.0.0.1:5000', 'http://127.0.0.1:5000'],
    // Called on another account's host: the base is its bare host.
    ['{account}.{host}', {}, '222233334444', 'https://111122223333.registry.example.com', 'https://222233334444.registry.example.com'],
    ['{account}.{host}', {}, DEFAULT, 'https://111122223333.registry.example.com', 'https://registry.example.com'],
    ['{account}.dkr.ecr.{region}.amazonaws.com', {}, DEFAULT, 'https://localhost:8443', 'https://000000000000.dkr.ecr.eu-west-1.amazonaws.com:8443'],
    ['{account}.{host}', { 'b.example.com': '111122223333' }, '111122223333', 'http://registry.example.com:5000', 'http://b.example.com:5000'],
  ];
  for (const [pattern, map, account, base, want] of cases) {
    it(`${pattern} ${JSON.stringify(map)}: ${account} from ${base} → ${want}`, () => assert.equal(hosts(pattern, map).originFor(account, base), want));
  }

  it('a named origin addresses that account again (round trip)', () => {
    const h = hosts();
    for (const base of ['http://127.0.0.1:5000', 'https://registry.example.com']) {
      const origin = h.originFor('123456789012', base);
      assert.equal(h.accountOf(new URL(origin).host), '123456789012');
    }
  });
});

describe('accountHosts config', () => {
  it('defaults to {account}.{host} with no mappings', () => {
    assert.deepEqual(validateConfig({}).accountHosts, { pattern: '{account}.{host}', map: {} });
  });
  it('refuses a pattern without {account} and mappings to non-account ids', () => {
    assert.throws(() => validateConfig({ accountHosts: { pattern: 'registry.{host}' } }), /accountHosts\.pattern/);
    assert.throws(() => validateConfig({ accountHosts: { pattern: '{host}-{account}' } }), /accountHosts\.pattern/);
    assert.throws(() => validateConfig({ accountHosts: { map: { 'a.example.com': '12' } } }), /accountHosts\.map/);
  });
});
