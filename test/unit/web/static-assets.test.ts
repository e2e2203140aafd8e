/**
 * The console's static files (src/web/static-assets.ts, which replaced @fastify/static for start-up
 * time, issue 12): served from memory with their type, a strong ETag and Cache-Control; 304 to a
 * matching If-None-Match; HEAD; and nothing but the files of the directory (no traversal, no other
 * extensions).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { staticAssets } from '../../../src/web/static-assets.js';

describe('console static assets', () => {
  let dir: string;
  let app: FastifyInstance;
  const css = 'body { color: #123; }\n';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-static-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'app.css'), css);
    writeFileSync(join(dir, 'app.js'), 'document.title = "x";\n');
    writeFileSync(join(dir, 'notes.txt'), 'not an asset');
    writeFileSync(join(dir, 'sub', 'inner.css'), 'p {}');
    writeFileSync(join(tmpdir(), 'outside.css'), 'secret {}');
    app = Fastify();
    staticAssets(app, dir, '/ui/static/', 300);
    await app.ready();
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tmpdir(), 'outside.css'), { force: true });
  });

  it('serves a file with its type, a strong ETag (SHA-256) and Cache-Control', async () => {
    const res = await app.inject({ url: '/ui/static/app.css' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, css);
    assert.equal(res.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    assert.equal(res.headers.etag, `"${createHash('sha256').update(css).digest('base64url')}"`);
    const js = await app.inject({ url: '/ui/static/app.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  });

  it('answers 304 to a matching If-None-Match (also in a list, and *), 200 to another', async () => {
    const { headers } = await app.inject({ url: '/ui/static/app.css' });
    for (const match of [String(headers.etag), `"other", ${headers.etag}`, '*']) {
      const res = await app.inject({ url: '/ui/static/app.css', headers: { 'if-none-match': match } });
      assert.equal(res.statusCode, 304, match);
      assert.equal(res.body, '');
      assert.equal(res.headers.etag, headers.etag);
    }
    const other = await app.inject({ url: '/ui/static/app.css', headers: { 'if-none-match': '"stale"' } });
    assert.equal(other.statusCode, 200);
  });

  it('HEAD gives the headers without a body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/ui/static/app.js' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
  });

  it('serves nothing else: unknown names, other types, subdirectories, traversal', async () => {
    for (const url of ['/ui/static/missing.css', '/ui/static/notes.txt', '/ui/static/sub/inner.css', '/ui/static/sub%2Finner.css',
      '/ui/static/../outside.css', '/ui/static/..%2Foutside.css', '/ui/static/%2e%2e%2foutside.css', '/ui/static/']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /secret|p \{\}|not an asset/, url);
    }
  });
});
