import type { FastifyInstance } from 'fastify';
import type { PublicRepositoryService } from '../../core/services/public/public-repositories.js';

/**
 * `GET /ui/logos/<alias>/<name>`: the logo of a public repository, as ECR Public's `logoUrl`.
 * Public like the repository itself; served only with the type its bytes were checked to be, and
 * with `nosniff` and a sandboxing CSP so an image can never be interpreted as a page.
 */
export async function logoRoutes(app: FastifyInstance, deps: { publicRepos: PublicRepositoryService }): Promise<void> {
  app.get('/ui/logos/*', async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    const signal = AbortSignal.timeout(10_000);
    const found = await deps.publicRepos.lookup(name, signal);
    const logo = found ? await deps.publicRepos.logo(name, signal) : undefined;
    if (!logo) return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('no such logo\n');
    return reply.header('content-type', logo.contentType).header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox").header('cache-control', 'public, max-age=300')
      .send(logo.bytes);
  });
}
