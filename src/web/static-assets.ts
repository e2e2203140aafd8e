import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** Types of the files the console ships (a stylesheet and a script); any other file in the directory is not served. */
const TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

interface Asset { readonly body: Buffer; readonly type: string; readonly etag: string }

/**
 * Serves the console's own files (`assets/web`: a stylesheet and a script, a few KiB) under
 * `prefix`, from memory: read once, by the first request for one rather than at start (~1 ms of
 * every start), with a strong ETag (their SHA-256), `Cache-Control: public, max-age=…`, 304 to a
 * matching `If-None-Match`, HEAD, and 404 for any other name — only the files that were in the
 * directory, so no request path ever reaches the file system. Replaces @fastify/static (with send,
 * glob and mime), whose loading cost every worker's start-up ~14 ms (issue 12) for what is a fixed
 * set of two files shipped with the package.
 */
export function staticAssets(app: FastifyInstance, dir: string, prefix: string, maxAgeSeconds: number): void {
  let assets: Map<string, Asset> | undefined;
  app.get(`${prefix}:name`, async (req, reply) => {
    const asset = (assets ??= readAssets(dir)).get((req.params as { name: string }).name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('Not Found');
    reply.header('etag', asset.etag).header('cache-control', `public, max-age=${maxAgeSeconds}`);
    const match = req.headers['if-none-match'];
    if (match && match.split(',').some((t) => t.trim() === asset.etag || t.trim() === '*')) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  });
}

function readAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url')}"` });
  }
  return assets;
}
