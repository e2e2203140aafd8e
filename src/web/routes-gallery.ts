import type { FastifyInstance } from 'fastify';
import { fail } from '../core/errors.js';
import { PublicRepositoryService } from '../core/services/public/public-repositories.js';
import type { WebDeps } from './plugin.js';
import { sendPage, webOf } from './plugin.js';
import { renderMarkdown } from './markdown.js';
import { galleryPage, publicRepositoryPage, type GalleryQuery } from './pages/gallery.js';

const PAGE_SIZE = 24;
/** The most tags a repository page lists (newest first). */
const MAX_TAGS = 1000;

const one = (v: unknown, max = 200): string => (typeof v === 'string' ? v.slice(0, max) : '');

/** The gallery: no sign-in; only public repositories are ever read here. */
export async function galleryRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.get('/ui', async (_req, reply) => reply.redirect('/ui/', 301));

  app.get('/ui/', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const query: GalleryQuery = { q: one(q.q), arch: one(q.arch, 50), os: one(q.os, 50), ...(one(q.last, 300) ? { last: one(q.last, 300) } : {}) };
    const filter = {
      ...(query.q ? { query: query.q } : {}), ...(query.arch ? { architecture: query.arch } : {}), ...(query.os ? { operatingSystem: query.os } : {}),
    };
    const signal = AbortSignal.timeout(10_000);
    const [results, total] = await Promise.all([
      deps.publicRepos.list({ ...filter, limit: PAGE_SIZE + 1, ...(query.last ? { last: query.last } : {}) }, signal),
      deps.publicRepos.count(filter, signal),
    ]);
    const page = results.slice(0, PAGE_SIZE);
    const next = results.length > PAGE_SIZE ? page[page.length - 1]!.record.name : undefined;
    return sendPage(reply, galleryPage(webOf(req).page, query, page, total, next));
  });

  app.get('/ui/r/*', async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    const signal = AbortSignal.timeout(10_000);
    const found = await deps.publicRepos.lookup(name, signal);
    if (!found) throw fail('RepositoryNotFound', `There is no public repository ${name.slice(0, 256)}.`);
    const [images, displayName] = await Promise.all([
      deps.images.describeImages(PublicRepositoryService.keyOf(found.record), undefined, 'TAGGED', undefined, MAX_TAGS, signal),
      deps.publicRepos.displayName(found.record.accountId, signal),
    ]);
    const sorted = [...images.images].sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime());
    const { aboutText, usageText } = found.record.catalog;
    const [about, usage] = await Promise.all([aboutText ? renderMarkdown(aboutText) : undefined, usageText ? renderMarkdown(usageText) : undefined]);
    return sendPage(reply, publicRepositoryPage(webOf(req).page, found, displayName, sorted, { about, usage }));
  });
}
