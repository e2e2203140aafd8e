import { isBerthError } from '../../core/errors.js';
import { MediaType } from '../../core/media-types.js';
import { repoKey } from '../../core/repo-key.js';
import type { OciContext, OciRoute } from './context.js';
import { pageQuery } from './http-util.js';

/** Fetches one more item than asked to learn whether a `Link: rel="next"` is due. */
async function page(ctx: OciContext, path: string, fetch: (p: { limit: number; last?: string }) => Promise<string[]>): Promise<string[]> {
  const query = ctx.req.query as Record<string, string | undefined>;
  const { limit, last } = pageQuery(query, ctx.deps.limits.maxPageSize);
  if (limit === 0) return [];
  const items = await fetch({ limit: limit + 1, ...(last ? { last } : {}) });
  if (items.length > limit) {
    items.length = limit;
    const next = new URLSearchParams({ n: String(limit), last: items[limit - 1]! });
    ctx.reply.header('link', `<${path}?${next.toString()}>; rel="next"`);
  }
  return items;
}

/** Up to `limit` names of the account's repositories after `last` that the caller may describe. */
async function describable(ctx: OciContext, p: { limit: number; last?: string }): Promise<string[]> {
  const out: string[] = [];
  let last = p.last;
  for (;;) {
    const batch = await ctx.deps.repos.list(ctx.accountId, { limit: p.limit, ...(last !== undefined ? { last } : {}) }, ctx.signal);
    for (const name of batch) {
      const allowed = await ctx.authorize('ecr:DescribeRepositories', repoKey(ctx.accountId, name)).then(() => true, (err: unknown) => {
        if (isBerthError(err) && (err.code === 'AccessDenied' || err.code === 'Unauthenticated')) return false;
        throw err;
      });
      if (allowed) out.push(name);
      if (out.length >= p.limit) return out;
    }
    if (batch.length < p.limit) return out;
    last = batch[batch.length - 1];
  }
}

export const listRoutes: OciRoute[] = [
  {
    // Only the addressed account's repositories, and of those only the ones the caller may
    // describe: the catalog must not reveal names the caller cannot see otherwise.
    method: 'GET', label: 'catalog', pattern: /^\/v2\/_catalog$/, action: null,
    async handle(ctx) {
      const repositories = await page(ctx, '/v2/_catalog', (p) => describable(ctx, p));
      await ctx.reply.code(200).send({ repositories });
    },
  },
  {
    method: 'GET', label: 'tags', pattern: /^\/v2\/(?<name>.+)\/tags\/list$/, action: 'ecr:ListImages',
    async handle(ctx) {
      const tags = await page(ctx, `/v2/${ctx.name}/tags/list`, (p) => ctx.deps.manifests.tags(ctx.repo, p, ctx.signal));
      await ctx.reply.code(200).send({ name: ctx.name, tags });
    },
  },
  {
    method: 'GET', label: 'referrers', pattern: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/, action: 'ecr:ListImages',
    async handle(ctx) {
      const artifactType = (ctx.req.query as Record<string, string | undefined>).artifactType;
      const manifests = await ctx.deps.manifests.referrers(ctx.repo, ctx.params.digest!, artifactType || undefined, ctx.signal);
      if (artifactType) ctx.reply.header('oci-filters-applied', 'artifactType');
      await ctx.reply.code(200).header('content-type', MediaType.OciIndex)
        .send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests })));
    },
  },
];
