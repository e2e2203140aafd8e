import { isBerthError } from '../../core/errors.js';
import type { OciContext, OciRoute } from './context.js';
import { pickRange } from './http-util.js';

const BLOB = /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]+)$/;

async function getBlob(ctx: OciContext, head: boolean): Promise<void> {
  const { reply, deps, repo, params, signal, req } = ctx;
  if (head) {
    const { digest, size } = await deps.blobs.stat(repo, params.digest!, signal);
    reply.header('content-length', size).header('docker-content-digest', digest)
      .header('content-type', 'application/octet-stream').header('accept-ranges', 'bytes').header('etag', `"${digest}"`);
    await reply.code(200).send();
    return;
  }
  let opened;
  try {
    opened = await deps.blobs.open(repo, params.digest!, pickRange(req.headers.range), signal);
  } catch (err) {
    if (isBerthError(err) && err.code === 'RangeNotSatisfiable' && typeof err.detail?.size === 'number') {
      reply.header('content-range', `bytes */${err.detail.size}`);
    }
    throw err;
  }
  const { digest, size, range, body, pipeTo } = opened;
  reply.header('docker-content-digest', digest).header('content-type', 'application/octet-stream')
    .header('accept-ranges', 'bytes').header('etag', `"${digest}"`);
  if (range) {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`)
      .header('content-length', range.end - range.start + 1);
  } else {
    reply.code(200).header('content-length', size);
  }
  if (!pipeTo) {
    await reply.send(body);
    return;
  }
  // The store reuses its buffers: write straight to the socket and wait for each write to finish.
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(reply.statusCode, reply.getHeaders() as Record<string, string | number | string[]>);
  try {
    await pipeTo((chunk) => new Promise((done, failed) => raw.write(chunk, (err) => (err ? failed(err) : done()))));
    raw.end();
  } catch (err) {
    // Headers are out: the only honest signal left is a cut connection (the length will not match).
    req.log.warn({ err }, 'blob transfer interrupted');
    raw.destroy();
  }
}

export const blobRoutes: OciRoute[] = [
  { method: 'GET', label: 'blobs', pattern: BLOB, action: 'ecr:GetDownloadUrlForLayer', handle: (ctx) => getBlob(ctx, false) },
  { method: 'HEAD', label: 'blobs', pattern: BLOB, action: 'ecr:BatchCheckLayerAvailability', handle: (ctx) => getBlob(ctx, true) },
  {
    method: 'DELETE', label: 'blobs', pattern: BLOB, action: 'ecr:BatchDeleteImage',
    async handle({ reply, deps, repo, params, signal }) {
      const digest = await deps.blobs.delete(repo, params.digest!, signal);
      await reply.code(202).header('docker-content-digest', digest).header('content-length', 0).send();
    },
  },
];
