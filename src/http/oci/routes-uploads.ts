import { fail, isBerthError } from '../../core/errors.js';
import type { UploadSession } from '../../core/ports/meta-store.js';
import { repoKey } from '../../core/repo-key.js';
import type { OciContext, OciRoute } from './context.js';
import { contentLength, hasBody, uploadContentRange, uploadRange } from './http-util.js';

const START = /^\/v2\/(?<name>.+)\/blobs\/uploads\/?$/;
const SESSION = /^\/v2\/(?<name>.+)\/blobs\/uploads\/(?<id>[^/]+)$/;

function sessionHeaders(ctx: OciContext, session: UploadSession): void {
  ctx.reply.header('location', `/v2/${ctx.name}/blobs/uploads/${session.id}`)
    .header('range', uploadRange(session.size)).header('docker-upload-uuid', session.id)
    .header('content-length', 0);
}

async function created(ctx: OciContext, digest: string): Promise<void> {
  await ctx.reply.code(201).header('location', `/v2/${ctx.name}/blobs/${digest}`)
    .header('docker-content-digest', digest).header('content-length', 0).send();
}

/** On an out-of-order chunk the client needs to know where the session really ends. */
async function withSessionOnRangeError<T>(ctx: OciContext, id: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isBerthError(err) && err.code === 'RangeNotSatisfiable') {
      const session = await ctx.deps.uploads.status(ctx.repo, id, ctx.signal).catch(() => undefined);
      if (session) sessionHeaders(ctx, session);
    }
    throw err;
  }
}

export const uploadRoutes: OciRoute[] = [
  {
    method: 'POST', label: 'uploads', pattern: START, action: 'ecr:InitiateLayerUpload',
    async handle(ctx) {
      const { req, deps, repo, signal } = ctx;
      const query = req.query as Record<string, string | undefined>;
      const create = deps.access.createRepositoryOnPush;
      if (query.mount) {
        // The source is a repository of the same registry (account) the request addressed.
        const from = query.from ? repoKey(ctx.accountId, query.from) : undefined;
        const allowed = from ? await ctx.authorize('ecr:GetDownloadUrlForLayer', from).then(() => true, () => false) : false;
        const mounted = from && allowed ? await deps.uploads.mount(repo, query.mount, from, create, signal) : undefined;
        if (mounted) return created(ctx, mounted.digest);
      } else if (query.digest) {
        const blob = await deps.uploads.monolithic(repo, query.digest, req.raw, contentLength(req), create, signal);
        return created(ctx, blob.digest);
      }
      const session = await deps.uploads.start(repo, create, signal);
      sessionHeaders(ctx, session);
      await ctx.reply.code(202).send();
    },
  },
  {
    method: 'GET', label: 'uploads', pattern: SESSION, action: 'ecr:InitiateLayerUpload',
    async handle(ctx) {
      sessionHeaders(ctx, await ctx.deps.uploads.status(ctx.repo, ctx.params.id!, ctx.signal));
      await ctx.reply.code(204).send();
    },
  },
  {
    method: 'PATCH', label: 'uploads', pattern: SESSION, action: 'ecr:UploadLayerPart',
    async handle(ctx) {
      const { req, deps, repo, params, signal } = ctx;
      const range = uploadContentRange(req);
      const length = contentLength(req);
      const session = await withSessionOnRangeError(ctx, params.id!, () =>
        deps.uploads.append(repo, params.id!, req.raw, { ...(range ? { range } : {}), ...(length !== undefined ? { length } : {}) }, signal));
      sessionHeaders(ctx, session);
      await ctx.reply.code(202).send();
    },
  },
  {
    method: 'PUT', label: 'uploads', pattern: SESSION, action: 'ecr:CompleteLayerUpload',
    async handle(ctx) {
      const { req, deps, repo, params, signal } = ctx;
      const digest = (req.query as Record<string, string | undefined>).digest;
      if (!digest) throw fail('InvalidDigest', 'the digest query parameter is required to complete an upload');
      const range = uploadContentRange(req);
      const length = contentLength(req);
      const blob = await withSessionOnRangeError(ctx, params.id!, () => deps.uploads.complete(repo, params.id!, digest,
        hasBody(req) ? req.raw : undefined, { ...(range ? { range } : {}), ...(length !== undefined ? { length } : {}) }, signal));
      await created(ctx, blob.digest);
    },
  },
  {
    method: 'DELETE', label: 'uploads', pattern: SESSION, action: 'ecr:InitiateLayerUpload',
    async handle(ctx) {
      await ctx.deps.uploads.cancel(ctx.repo, ctx.params.id!, ctx.signal);
      await ctx.reply.code(204).send();
    },
  },
];
