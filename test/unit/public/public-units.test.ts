/**
 * Table tests of the public-registry building blocks: logo sniffing by bytes, catalog merging,
 * the pull rate limiter's token bucket, anonymous tokens, scrypt passwords, HTML escaping, and
 * the markdown sanitizer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { AnonymousTokens } from '../../../src/auth/anonymous-tokens.js';
import { PullRateLimiter } from '../../../src/auth/pull-rate-limit.js';
import { MasterKeyring } from '../../../src/crypto/keyring.js';
import { EMPTY_CATALOG, logoContentType, mergeCatalog } from '../../../src/core/services/public/catalog.js';
import { hashPassword, verifyPassword } from '../../../src/core/services/console/passwords.js';
import { PublicRepositoryService } from '../../../src/core/services/public/public-repositories.js';
import { html, escapeHtml } from '../../../src/web/html.js';
import { renderMarkdown } from '../../../src/web/markdown.js';

const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('logos are judged by their bytes', () => {
  const cases: [string, Buffer, string | undefined][] = [
    ['PNG signature', PNG_HEAD, 'image/png'],
    ['JPEG SOI marker', Buffer.from([0xff, 0xd8, 0xff, 0xdb, 1]), 'image/jpeg'],
    ['GIF', Buffer.from('GIF89a...'), undefined],
    ['SVG (script-capable) named like a PNG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'), undefined],
    ['truncated PNG signature', PNG_HEAD.subarray(0, 4), undefined],
    ['PNG over 512,000 bytes', Buffer.concat([PNG_HEAD, Buffer.alloc(512_000)]), undefined],
    ['PNG of exactly 512,000 bytes', Buffer.concat([PNG_HEAD, Buffer.alloc(512_000 - PNG_HEAD.length)]), 'image/png'],
  ];
  for (const [name, bytes, expected] of cases) {
    it(`${name} → ${expected ?? 'InvalidParameter'}`, () => {
      if (expected) assert.equal(logoContentType(bytes), expected);
      else assert.equal(code(() => logoContentType(bytes)), 'InvalidParameter');
    });
  }
  it('merging keeps fields not given, replaces given ones, removes the logo with an empty blob', () => {
    const base = { ...EMPTY_CATALOG, description: 'd', architectures: ['ARM'] };
    const r = mergeCatalog(base, { aboutText: 'a', architectures: ['x86', 'x86'], logoImageBlob: Buffer.alloc(0) });
    assert.deepEqual(r.catalog, { ...base, aboutText: 'a', architectures: ['x86'] });
    assert.equal(r.logo, null);
    assert.equal(mergeCatalog(base, {}).logo, undefined);
  });
});

describe('pull rate limiter (token bucket)', () => {
  const refusal = (p: Promise<void>) => p.then(() => undefined, (e: { code?: string; detail?: { retryAfterSeconds?: number } }) => e);
  it('allows the burst, then refuses with a Retry-After, refills at the rate, and keeps callers apart', async () => {
    let now = 0;
    const rl = new PullRateLimiter({ perSecond: 1, burst: 3 }, { perSecond: 10, burst: 30 }, () => now);
    for (let i = 0; i < 3; i++) await rl.take('1.2.3.4', false);
    const err = await refusal(rl.take('1.2.3.4', false));
    assert.equal(err?.code, 'TooManyRequests');
    assert.equal(err?.detail?.retryAfterSeconds, 1);
    await rl.take('5.6.7.8', false);
    await rl.take('1.2.3.4', true);
    now = 1000;
    await rl.take('1.2.3.4', false);
    assert.equal((await refusal(rl.take('1.2.3.4', false)))?.code, 'TooManyRequests');
  });
  it('authenticated callers get the higher limit', async () => {
    const rl = new PullRateLimiter({ perSecond: 1, burst: 1 }, { perSecond: 10, burst: 20 }, () => 0);
    for (let i = 0; i < 20; i++) await rl.take('arn:aws:iam::1:user/u', true);
    assert.equal((await refusal(rl.take('arn:aws:iam::1:user/u', true)))?.code, 'TooManyRequests');
  });
});

describe('anonymous tokens', () => {
  const tokens = new AnonymousTokens(new MasterKeyring(randomBytes(32)));
  const now = new Date('2026-01-01T00:00:00Z');
  it('round-trip their repositories; altered, foreign or expired ones are Unauthenticated', () => {
    const { token } = tokens.issue(['a/b'], now);
    assert.deepEqual(tokens.verify(token, now).repositories, ['a/b']);
    const other = new AnonymousTokens(new MasterKeyring(randomBytes(32)));
    const [prefix, payload, mac] = token.split('.');
    const altered = `${prefix}.${Buffer.from(JSON.stringify({ r: ['x/y'], e: Date.now() + 1e9 })).toString('base64url')}.${mac}`;
    for (const bad of [altered, `${prefix}.${payload}.${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`, 'b1a.', 'garbage']) assert.equal(code(() => tokens.verify(bad, now)), 'Unauthenticated', bad);
    assert.equal(code(() => other.verify(token, now)), 'Unauthenticated');
    assert.equal(code(() => tokens.verify(token, new Date(now.getTime() + 301_000))), 'Unauthenticated');
  });
});

describe('passwords and aliases', () => {
  it('scrypt hashes verify only the right password and differ per salt', async () => {
    const h1 = await hashPassword('s3cret-pass');
    const h2 = await hashPassword('s3cret-pass');
    assert.notEqual(h1, h2);
    assert.match(h1, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifyPassword(h1, 's3cret-pass'), true);
    assert.equal(await verifyPassword(h1, 's3cret-pasS'), false);
    assert.equal(await verifyPassword('md5$abc', 's3cret-pass'), false);
  });
  it('derived aliases are stable, valid and differ per account; bad aliases are refused', () => {
    const a = PublicRepositoryService.derivedAlias('000000000000');
    assert.equal(a, PublicRepositoryService.derivedAlias('000000000000'));
    assert.notEqual(a, PublicRepositoryService.derivedAlias('111111111111'));
    assert.equal(PublicRepositoryService.validateAlias(a), a);
    for (const bad of ['A', '1abc', 'ab/cd', 'a', 'x'.repeat(51), 'ab--']) assert.equal(code(() => PublicRepositoryService.validateAlias(bad)), 'InvalidParameter', bad);
  });
});

describe('HTML output is escaped and markdown sanitized', () => {
  it('html`` escapes every interpolation', () => {
    assert.equal(html`<p title="${'"><script>'}">${'<b>&'}</p>`.value, '<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;&amp;</p>');
    assert.equal(escapeHtml("`'"), '&#96;&#39;');
  });
  const cases: [string, RegExp | undefined, RegExp][] = [
    ['<script>alert(1)</script>', undefined, /<script/i],
    ['<img src=x onerror=alert(1)>', undefined, /onerror/i],
    ['[x](javascript:alert(1))', undefined, /javascript:/i],
    ['<a href="https://e.example" onclick="x()">e</a>', /href="https:\/\/e\.example"/, /onclick/i],
    ['<iframe src="https://e.example"></iframe>', undefined, /<iframe/i],
    ['<div style="background:url(x)">s</div>', undefined, /style=/i],
    ['![i](http://insecure.example/a.png)', undefined, /src="http:/],
    ['**bold** and `code`', /<strong>bold<\/strong> and <code>code<\/code>/, /<script/],
  ];
  for (const [input, must, mustNot] of cases) {
    it(`markdown ${JSON.stringify(input)}`, async () => {
      const out = (await renderMarkdown(input)).value;
      if (must) assert.match(out, must);
      assert.doesNotMatch(out, mustNot);
    });
  }
});
