import type { SignInFailures } from '../core/ports/shared-limits.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessControl, Principal } from '../core/access.js';
import { isBerthError } from '../core/errors.js';
import type { RepoKey } from '../core/repo-key.js';
import type { LoginProfileService } from '../core/services/console/login-profiles.js';
import type { EcrImageService } from '../core/services/ecr/images.js';
import type { EcrRepositoryService } from '../core/services/ecr/repositories.js';
import type { PublicRepositoryService } from '../core/services/public/public-repositories.js';
import type { Html } from './html.js';
import type { PageContext } from './layout.js';
import { errorPage } from './pages/console.js';
import { consoleRoutes } from './routes-console.js';
import { galleryRoutes } from './routes-gallery.js';
import { staticAssets } from './static-assets.js';
import { displayName, readSession } from './session.js';

export interface WebDeps {
  publicRepos: PublicRepositoryService;
  ecrRepos: EcrRepositoryService;
  images: EcrImageService;
  logins: LoginProfileService;
  access: AccessControl;
  region: string;
  /** Key of the session cookie's HMAC (derived from the master key, so every node agrees). */
  cookieSecret: Buffer;
  onPolicyChange(): void;
  /** Sign-in failure counters shared by the nodes (issue 11); process memory when absent. */
  signInFailures?: SignInFailures;
}

/** Per-request view of the web surface: the signed-in principal (if any) and the page context. */
export interface WebRequest {
  principal: (Principal & { kind: 'iam' }) | undefined;
  page: PageContext;
  /** Authorizes an action through the same IAM evaluation as the APIs; throws `AccessDenied`. */
  authorize(action: `${string}:${string}`, target: { repository?: RepoKey; resource?: string }): Promise<void>;
  /** Resolves `true` when allowed (for enabling buttons). */
  can(action: `${string}:${string}`, target: { repository?: RepoKey; resource?: string }): Promise<boolean>;
}

/** Content-Security-Policy of every console page: scripts and styles only from this origin, nothing inline. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** `<package root>/assets/web`: static files live beside the code so src (tsx) and dist use the same path. */
function assetsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'assets', 'web'))) return join(dir, 'assets', 'web');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('berth: no assets/web directory found');
    dir = parent;
  }
}

/**
 * The console and public gallery at `/ui`: server-rendered pages with one small script (copy
 * buttons, confirmations). Sessions are HMAC-signed HttpOnly SameSite=Strict cookies (Secure over
 * TLS); every POST needs the CSRF token of @fastify/csrf-protection; every action is authorized by
 * the same IAM evaluation as the APIs.
 */
export async function webPlugin(app: FastifyInstance, deps: WebDeps): Promise<void> {
  await app.register(cookie, { secret: deps.cookieSecret });
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'berth_csrf',
    cookieOpts: { path: '/ui', httpOnly: true, sameSite: 'strict', signed: true },
    getToken: (req) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined,
  });
  await app.register(formbody, { bodyLimit: 1024 * 1024 });
  await app.register(multipart, { limits: { fileSize: 512_000 + 1, files: 1, fields: 40 } });
  app.addHook('preValidation', multipartKeyValues);
  staticAssets(app, assetsDir(), '/ui/static/', 300);

  app.addHook('onSend', async (_req, reply) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'same-origin').header('x-frame-options', 'DENY').header('cache-control', 'no-store');
    }
  });

  app.decorateRequest('web', null);
  app.addHook('preHandler', async (req, reply) => {
    const signal = AbortSignal.timeout(10_000);
    const claims = readSession(req);
    const principal = claims ? await deps.logins.resume(claims.accountId, claims.userName, signal) : undefined;
    const context = { sourceIp: req.ip, secureTransport: req.protocol === 'https' };
    const authorize = async (action: `${string}:${string}`, target: { repository?: RepoKey; resource?: string }) => {
      await deps.access.authorize({ principal: principal ?? { kind: 'anonymous' }, action, ...target, context }, signal);
    };
    (req as FastifyRequest & { web: WebRequest }).web = {
      principal,
      page: { ...(principal ? { user: displayName(principal) } : {}), csrf: reply.generateCsrf(), host: req.host },
      authorize,
      can: (action, target) => authorize(action, target).then(() => true, () => false),
    };
  });

  app.setErrorHandler((err: Error, req, reply) => {
    const web = (req as FastifyRequest & { web?: WebRequest | null }).web;
    const page = web?.page ?? { csrf: '', host: req.host };
    let status = 500;
    let text = `Internal error; request id ${req.id}`;
    if (isBerthError(err)) {
      status = err.code === 'AccessDenied' ? 403 : err.code === 'Unauthenticated' ? 401 : err.code.endsWith('NotFound') ? 404 : err.code === 'TooManyRequests' ? 429 : 400;
      text = err.message;
    } else if (clientStatus(err) !== undefined) {
      status = clientStatus(err)!;
      text = status === 403 ? 'The form expired or was not sent by this site (missing or invalid CSRF token). Reload the page and try again.' : err.message;
    } else {
      req.log.error({ err }, 'console error');
    }
    if (status === 401) return reply.redirect('/ui/login', 303);
    return sendPage(reply.code(status), errorPage(page, status, text));
  });

  await galleryRoutes(app, deps);
  await consoleRoutes(app, deps);
}

export function sendPage(reply: FastifyReply, page: Html): FastifyReply {
  return reply.header('content-type', 'text/html; charset=utf-8').send(page.value);
}

export const webOf = (req: FastifyRequest): WebRequest => (req as FastifyRequest & { web: WebRequest }).web;

function clientStatus(err: Error): number | undefined {
  const s = (err as Error & { statusCode?: unknown }).statusCode;
  return typeof s === 'number' && s >= 400 && s < 500 ? s : undefined;
}

/**
 * The console's multipart form (a new public repository with its logo) as a plain body: each field
 * a string, the file a Buffer, a repeated name an array — what @fastify/multipart's
 * `attachFieldsToBody: 'keyValues'` gives. Done here because that option makes the plugin read
 * `globalThis.FormData` when it registers, which loads Node's bundled undici: ~30 ms of every
 * worker's start-up (issue 12), for a `request.formData()` nothing here calls.
 */
async function multipartKeyValues(req: FastifyRequest): Promise<void> {
  if (!req.isMultipart()) return;
  const body: Record<string, string | Buffer | (string | Buffer)[]> = {};
  for await (const part of req.parts()) {
    const value = part.type === 'file' ? await part.toBuffer() : String(part.value ?? '');
    const seen = body[part.fieldname];
    body[part.fieldname] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  req.body = body;
}
