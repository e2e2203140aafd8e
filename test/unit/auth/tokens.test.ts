import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { RegistryTokens, TOKEN_LIFETIME_MS } from '../../../src/auth/registry-tokens.js';
import { UrlSigner } from '../../../src/auth/url-signer.js';
import { MasterKeyring } from '../../../src/crypto/keyring.js';

const keyring = new MasterKeyring(randomBytes(32));
const now = new Date('2026-11-27T10:00:00Z');

describe('registry tokens', () => {
  const tokens = new RegistryTokens(keyring);

  it('a token verifies until it expires 12 hours after issue, then is refused as expired', () => {
    const { token, expiresAt } = tokens.issue('123456789012', 'AKIAEXAMPLE', now);
    assert.equal(expiresAt.getTime() - now.getTime(), TOKEN_LIFETIME_MS);
    assert.deepEqual(tokens.verify(token, new Date(expiresAt.getTime() - 1)), { accountId: '123456789012', accessKeyId: 'AKIAEXAMPLE', expiresAt });
    assert.throws(() => tokens.verify(token, expiresAt), { code: 'Unauthenticated', message: /expired/ });
  });

  it('a token with an altered payload, a forged MAC, or from another master key is refused', () => {
    const { token } = tokens.issue('123456789012', 'AKIAEXAMPLE', now);
    const [prefix, payload, mac] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { e: number };
    claims.e += 24 * 3600 * 1000;
    const stretched = `${prefix}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
    assert.throws(() => tokens.verify(stretched, now), { code: 'Unauthenticated' });
    assert.throws(() => tokens.verify(`${prefix}.${payload}.${'A'.repeat(43)}`, now), { code: 'Unauthenticated' });
    // Every other spelling of the last MAC character (its spare bits decode the same) is refused too.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const c of alphabet) {
      if (c === mac!.at(-1)) continue;
      assert.throws(() => tokens.verify(`${prefix}.${payload}.${mac!.slice(0, -1)}${c}`, now), { code: 'Unauthenticated' }, c);
    }
    const other = new RegistryTokens(new MasterKeyring(randomBytes(32)));
    assert.throws(() => other.verify(token, now), { code: 'Unauthenticated' });
    for (const junk of ['', 'b1.', 'b1..', 'nope', 'b1.e30.']) assert.throws(() => tokens.verify(junk, now), { code: 'Unauthenticated' });
  });
});

describe('presigned download URLs', () => {
  const urls = new UrlSigner(keyring);
  const path = '/v2/team/app/blobs/sha256:' + 'a'.repeat(64);
  const account = '111111111111';

  it('a signed URL verifies for its account and path until it expires', () => {
    const query = Object.fromEntries(new URLSearchParams(urls.sign(account, path, new Date(now.getTime() + 60_000))));
    assert.equal(urls.verify(account, path, query, now), true);
    assert.equal(urls.verify(account, path, query, new Date(now.getTime() + 60_000)), false);
  });

  it("a signature does not carry over to another blob, another account's registry, or survive a changed expiry", () => {
    const query = Object.fromEntries(new URLSearchParams(urls.sign(account, path, new Date(now.getTime() + 60_000))));
    assert.equal(urls.verify(account, path.replace('team/app', 'team/other'), query, now), false);
    assert.equal(urls.verify('222222222222', path, query, now), false);
    assert.equal(urls.verify(account, path, { ...query, 'X-Berth-Expires': String(Number(query['X-Berth-Expires']) + 3600) }, now), false);
    assert.equal(urls.verify(account, path, {}, now), false);
  });
});
