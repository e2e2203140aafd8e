import { fail } from '../../core/errors.js';
import { MAX_MANIFEST_BYTES } from '../../core/manifest.js';
import { isIndexMediaType } from '../../core/media-types.js';
import type { ManifestRecord } from '../../core/ports/meta-store.js';
import type { OciContext, OciRoute } from './context.js';
import { contentLength } from './http-util.js';

const MANIFEST = /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]+)$/;

/**
 * Like ECR, an image index is only served to clients that say they accept index types; single
 * manifests are served as stored whatever the Accept header says.
 */
function checkAcceptable(accept: string | undefined, record: ManifestRecord): void {
  if (!accept || !isIndexMediaType(record.mediaType)) return;
  const types = accept.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  if (types.some((t) => t === record.mediaType || t === '*/*' || t === 'application/*')) return;
  throw fail('ManifestNotAcceptable', `${record.mediaType} found, but the Accept header does not support it`, { mediaType: record.mediaType });
}

async function getManifest(ctx: OciContext, head: boolean): Promise<void> {
  const record = await ctx.deps.manifests.get(ctx.repo, ctx.params.reference!, ctx.signal);
  await ctx.deps.manifests.assertPullable(ctx.repo, record.digest, ctx.signal);
  checkAcceptable(ctx.req.headers.accept, record);
  const reply = ctx.reply.code(200).header('content-type', record.mediaType).header('docker-content-digest', record.digest)
    .header('etag', `"${record.digest}"`).header('content-length', record.size);
  if (!head) ctx.deps.manifests.notePull(ctx.repo, record.digest, ctx.principal.kind === 'iam' ? ctx.principal.arn : undefined);
  await reply.send(head ? undefined : Buffer.from(record.body.buffer, record.body.byteOffset, record.body.byteLength));
}

/** Reads a manifest body, refusing more than the limit before buffering it. */
async function readManifestBody(ctx: OciContext): Promise<Buffer> {
  const declared = contentLength(ctx.req);
  if (declared !== undefined && declared > MAX_MANIFEST_BYTES) {
    throw fail('PayloadTooLarge', `manifest exceeds ${MAX_MANIFEST_BYTES} bytes`, { size: declared, limit: MAX_MANIFEST_BYTES });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of ctx.req.raw) {
    total += (chunk as Buffer).length;
    if (total > MAX_MANIFEST_BYTES) throw fail('PayloadTooLarge', `manifest exceeds ${MAX_MANIFEST_BYTES} bytes`, { limit: MAX_MANIFEST_BYTES });
    chunks.push(chunk as Buffer);
  }
  if (declared !== undefined && total !== declared) throw fail('SizeInvalid', `received ${total} bytes but ${declared} were declared`);
  return Buffer.concat(chunks, total);
}

export const manifestRoutes: OciRoute[] = [
  { method: 'GET', label: 'manifests', pattern: MANIFEST, action: 'ecr:BatchGetImage', handle: (ctx) => getManifest(ctx, false) },
  { method: 'HEAD', label: 'manifests', pattern: MANIFEST, action: 'ecr:BatchGetImage', handle: (ctx) => getManifest(ctx, true) },
  {
    method: 'PUT', label: 'manifests', pattern: MANIFEST, action: 'ecr:PutImage',
    async handle(ctx) {
      const body = await readManifestBody(ctx);
      const { digest, subject } = await ctx.deps.manifests.put(ctx.repo, ctx.params.reference!, body,
        ctx.req.headers['content-type'], ctx.deps.access.createRepositoryOnPush, ctx.signal);
      const reply = ctx.reply.code(201).header('location', `/v2/${ctx.name}/manifests/${digest}`)
        .header('docker-content-digest', digest).header('content-length', 0);
      if (subject) reply.header('oci-subject', subject);
      await reply.send();
    },
  },
  {
    method: 'DELETE', label: 'manifests', pattern: MANIFEST, action: 'ecr:BatchDeleteImage',
    async handle(ctx) {
      await ctx.deps.manifests.delete(ctx.repo, ctx.params.reference!, ctx.signal);
      await ctx.reply.code(202).header('content-length', 0).send();
    },
  },
];
