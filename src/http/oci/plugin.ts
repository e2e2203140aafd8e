import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ANONYMOUS } from '../../core/access.js';
import { fail } from '../../core/errors.js';
import { repoKey, type RepoKey } from '../../core/repo-key.js';
import type { OciContext, OciDeps, OciRoute } from './context.js';
import { readCredentials } from './credentials.js';
import { ociErrorHandler } from './errors.js';
import { blobRoutes } from './routes-blobs.js';
import { listRoutes } from './routes-lists.js';
import { manifestRoutes } from './routes-manifests.js';
import { sbomRoutes } from './routes-sbom.js';
import { uploadRoutes } from './routes-uploads.js';

const baseRoute: OciRoute = {
  method: 'GET', label: 'base', pattern: /^\/v2\/?$/, action: null,
  async handle({ reply }) {
    await reply.code(200).header('content-type', 'application/json').send('{}');
  },
};

/**
 * Order matters: `…/blobs/uploads/…` must be tried before `…/blobs/<digest>`; manifests come
 * first because they are the hot path (no manifest path can match another route's pattern). Repository names
 * contain slashes, which fastify's router cannot express, so `/v2/*` is matched here against the
 * raw (still percent-encoded) path: an encoded `%2e%2e` can never become a path segment.
 */
const ROUTES: OciRoute[] = [...manifestRoutes, ...uploadRoutes, ...blobRoutes, ...listRoutes, ...sbomRoutes, baseRoute];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

type Match = { readonly route: OciRoute; readonly groups: Readonly<Record<string, string>> } | 'method' | undefined;

/**
 * Recent results of {@link match} by method and path (a registry is asked for the same manifests
 * and blobs again and again): trying the route patterns was ~2 % of a manifest GET's CPU (issue
 * 12). Bounded: cleared when full; long paths are not kept.
 */
const recentMatches = new Map<string, Map<string, Match>>();
const MAX_RECENT_MATCHES = 2048;
const MAX_REMEMBERED_PATH = 512;
let recentMatchCount = 0;

function matchRecent(method: string, path: string): Match {
  let byPath = recentMatches.get(method);
  const hit = byPath?.get(path);
  if (hit !== undefined || byPath?.has(path)) return hit;
  const found = match(method, path);
  if (path.length > MAX_REMEMBERED_PATH) return found;
  if (recentMatchCount >= MAX_RECENT_MATCHES) {
    recentMatches.clear();
    recentMatchCount = 0;
    byPath = undefined;
  }
  if (!byPath) recentMatches.set(method, (byPath = new Map()));
  byPath.set(path, found);
  recentMatchCount++;
  return found;
}

function match(method: string, path: string): Match {
  let pathMatched = false;
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.method !== method) {
      pathMatched = true;
      continue;
    }
    return { route, groups: Object.freeze({ ...m.groups }) };
  }
  return pathMatched ? 'method' : undefined;
}

function decodeParam(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** The OCI Distribution surface at `/v2/`. */
export async function ociPlugin(app: FastifyInstance, deps: OciDeps): Promise<void> {
  // Bodies are streamed by the handlers themselves (blobs can be gigabytes): no parsing here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  app.setErrorHandler((err: Error, req, reply) => ociErrorHandler(err, req, reply, deps.challenge));
  app.addHook('onRequest', (_req, reply, done) => {
    reply.header('docker-distribution-api-version', 'registry/2.0');
    done();
  });

  const dispatch = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const q = req.url.indexOf('?');
    const path = q === -1 ? req.url : req.url.slice(0, q);
    const found = matchRecent(req.method, path);
    if (found === undefined) throw fail('Unsupported', `no such endpoint: ${req.method} ${path.slice(0, 200)}`);
    if (found === 'method') throw fail('Unsupported', `method ${req.method} is not allowed here`);
    const { route, groups } = found;
    req.routeLabel = route.label;
    const { name = '', ...rest } = groups;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(rest)) params[k] = decodeParam(v);

    const controller = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) controller.abort(new Error('client went away'));
    });
    const signal = controller.signal;
    const requestContext = { sourceIp: req.ip, secureTransport: req.protocol === 'https' };
    // Each account is its own registry: the host names it (the bare host, the default account).
    // A name inside a public registry alias is that alias owner's, whichever host was used.
    const publicOwner = name && deps.publicOwner ? await deps.publicOwner(name, signal) : undefined;
    const accountId = publicOwner ?? deps.accounts.accountOf(req.headers.host);
    const repo = repoKey(accountId, name);
    // A presigned download URL stands in for credentials, for a GET of that one blob only.
    const query = req.query as Record<string, string | undefined>;
    if (route.label === 'blobs' && req.method === 'GET' && query['X-Berth-Signature']) {
      if (!deps.presignedUrls?.verify(accountId, path, query, new Date())) throw fail('AccessDenied', 'the download URL is invalid or has expired');
      await route.handle({ req, reply, deps, name, accountId, repo, params, principal: ANONYMOUS, signal, authorize: async () => {} });
      return;
    }
    const principal = await deps.access.authenticate(readCredentials(req), signal);
    const authorize = (action: Parameters<OciContext['authorize']>[0], repository: RepoKey | undefined) =>
      deps.access.authorize({ principal, action, ...(repository !== undefined ? { repository } : {}), context: requestContext }, signal);
    if (route.action) await authorize(route.action, name ? repo : undefined);
    else deps.access.assertAuthenticated(principal, { ping: route === baseRoute });
    await route.handle({ req, reply, deps, name, accountId, repo, params, principal, signal, authorize });
  };

  app.route({ method: [...METHODS], url: '/v2', handler: dispatch });
  app.route({ method: [...METHODS], url: '/v2/*', handler: dispatch });
}
