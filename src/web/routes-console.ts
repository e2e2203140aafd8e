import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fail, isBerthError } from '../core/errors.js';
import type { RepositorySettings } from '../core/ports/meta-store.js';
import { repoKey } from '../core/repo-key.js';
import { logoContentType } from '../core/services/public/catalog.js';
import { loginPage, newRepositoryPage, repositoryListPage, repositoryPage, type RepoRow } from './pages/console.js';
import { sendPage, webOf, type WebDeps, type WebRequest } from './plugin.js';
import { clearSession, SESSION_TTL_MS, SignInThrottle, writeSession } from './session.js';

type Body = Record<string, unknown>;
const field = (b: Body, k: string, max = 25_600): string => (typeof b[k] === 'string' ? (b[k] as string).slice(0, max) : '');
const list = (b: Body, k: string): string[] => ([] as unknown[]).concat(b[k] ?? []).filter((x): x is string => typeof x === 'string');

/** The signed-in principal, or a redirect to the sign-in page. */
function requireUser(req: FastifyRequest, reply: FastifyReply): (WebRequest & { principal: NonNullable<WebRequest['principal']> }) | undefined {
  const web = webOf(req);
  if (!web.principal) {
    void reply.redirect('/ui/login', 303);
    return undefined;
  }
  return web as WebRequest & { principal: NonNullable<WebRequest['principal']> };
}

export async function consoleRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const throttle = new SignInThrottle();
  const csrf = { preHandler: app.csrfProtection };
  const repoArn = (accountId: string, name: string) => `arn:aws:ecr:${deps.region}:${accountId}:repository/${name}`;
  // The account's repository `name` when it is public (its alias is the account's own).
  const publicOf = async (accountId: string, name: string, signal: AbortSignal) => {
    const pub = await deps.publicRepos.lookup(name, signal);
    return pub?.record.accountId === accountId ? pub : undefined;
  };

  app.get('/ui/login', async (req, reply) => sendPage(reply, loginPage(webOf(req).page, undefined, { accountId: '', userName: '' })));

  app.post('/ui/login', csrf, async (req, reply) => {
    const b = req.body as Body;
    const accountId = field(b, 'accountId', 12);
    const userName = field(b, 'userName', 64).trim();
    const keys = [`${req.ip}|${accountId}|${userName}`, `${req.ip}`];
    const wait = throttle.lockedFor(keys);
    if (wait > 0) return sendPage(reply.code(429), loginPage(webOf(req).page, `Too many failed sign-ins. Try again in ${wait} seconds.`, { accountId, userName }));
    try {
      await deps.logins.signIn(accountId, userName, field(b, 'password', 256), AbortSignal.timeout(10_000));
    } catch (err) {
      if (!isBerthError(err) || err.code !== 'Unauthenticated') throw err;
      throttle.fail([{ key: keys[0]!, limit: 5 }, { key: keys[1]!, limit: 20 }]);
      return sendPage(reply.code(401), loginPage(webOf(req).page, err.message, { accountId, userName }));
    }
    throttle.succeed(keys[0]!);
    writeSession(req, reply, { accountId, userName, expiresAt: Date.now() + SESSION_TTL_MS });
    return reply.redirect('/ui/console', 303);
  });

  app.post('/ui/logout', csrf, async (req, reply) => {
    clearSession(req, reply);
    return reply.redirect('/ui/', 303);
  });

  app.get('/ui/console', async (req, reply) => {
    const web = requireUser(req, reply);
    if (!web) return reply;
    const { accountId } = web.principal;
    const signal = AbortSignal.timeout(10_000);
    await web.authorize('ecr:DescribeRepositories', { resource: repoArn(accountId, '*') });
    const filter = field(req.query as Body, 'q', 256);
    const repos = (await deps.ecrRepos.list(accountId, { limit: 1000 }, signal)).filter((r) => r.name.includes(filter));
    const rows: RepoRow[] = [];
    for (const repository of repos) {
      const pub = await publicOf(accountId, repository.name, signal);
      rows.push({ repository, ...(pub ? { publicName: pub.record.shortName } : {}) });
    }
    const canCreate = await web.can('ecr:CreateRepository', { resource: repoArn(accountId, '*') });
    return sendPage(reply, repositoryListPage(web.page, rows, filter, canCreate, field(req.query as Body, 'created', 300) ? `Created ${field(req.query as Body, 'created', 300)}.` : undefined));
  });

  app.get('/ui/console/new', async (req, reply) => {
    const web = requireUser(req, reply);
    if (!web) return reply;
    const type = field(req.query as Body, 'type') === 'public' ? 'public' : 'private';
    return sendPage(reply, newRepositoryPage(web.page, type, await deps.publicRepos.alias(web.principal.accountId, AbortSignal.timeout(10_000))));
  });

  app.post('/ui/console/new', csrf, async (req, reply) => {
    const web = requireUser(req, reply);
    if (!web) return reply;
    const { accountId } = web.principal;
    const signal = AbortSignal.timeout(30_000);
    const type = field(req.query as Body, 'type') === 'public' ? 'public' : 'private';
    const b = req.body as Body;
    const name = field(b, 'name', 256).trim();
    try {
      if (type === 'private') {
        await web.authorize('ecr:CreateRepository', { resource: repoArn(accountId, name) });
        await deps.publicRepos.assertPrivateName(name, signal);
        const mutability = field(b, 'tagMutability') as RepositorySettings['imageTagMutability'];
        const settings: Partial<RepositorySettings> = {
          imageTagMutability: ['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'].includes(mutability) ? mutability : 'MUTABLE',
          imageTagMutabilityExclusionFilters: field(b, 'exclusions').split('\n').map((s) => s.trim()).filter(Boolean).map((filter) => ({ filterType: 'WILDCARD' as const, filter })),
          scanOnPush: field(b, 'scanOnPush') === 'true',
          encryption: field(b, 'encryption') === 'KMS' ? { encryptionType: 'KMS', ...(field(b, 'kmsKey') ? { kmsKey: field(b, 'kmsKey', 2048) } : {}) } : { encryptionType: 'AES256' },
        };
        await deps.ecrRepos.create(repoKey(accountId, name), settings, signal);
        return reply.redirect(`/ui/console?created=${encodeURIComponent(name)}`, 303);
      }
      await web.authorize('ecr-public:CreateRepository', { resource: `arn:aws:ecr-public::${accountId}:repository/${name}` });
      const logo = Buffer.isBuffer(b.logo) && b.logo.length > 0 ? b.logo : undefined;
      if (logo) logoContentType(logo);
      const created = await deps.publicRepos.create(accountId, name, {
        description: field(b, 'description', 1024), aboutText: field(b, 'aboutText'), usageText: field(b, 'usageText'),
        architectures: list(b, 'architectures').slice(0, 50), operatingSystems: list(b, 'operatingSystems').slice(0, 50),
        ...(logo ? { logoImageBlob: logo } : {}),
      }, [], signal);
      return reply.redirect(`/ui/console?created=${encodeURIComponent(created.record.name)}`, 303);
    } catch (err) {
      if (!isBerthError(err) || ['AccessDenied', 'Internal'].includes(err.code)) throw err;
      const alias = await deps.publicRepos.alias(accountId, signal);
      return sendPage(reply.code(400), newRepositoryPage(web.page, type, alias, err.message));
    }
  });

  app.get('/ui/console/repo/*', async (req, reply) => {
    const web = requireUser(req, reply);
    if (!web) return reply;
    return showRepository(req, reply, web, (req.params as { '*': string })['*']);
  });

  async function showRepository(req: FastifyRequest, reply: FastifyReply, web: WebRequest & { principal: NonNullable<WebRequest['principal']> }, name: string,
    extra: { message?: { kind: 'ok' | 'error'; text: string }; policyError?: string; policy?: string } = {}, status = 200) {
    const { accountId } = web.principal;
    const signal = AbortSignal.timeout(10_000);
    const key = repoKey(accountId, name);
    await web.authorize('ecr:DescribeImages', { repository: key });
    const repository = await deps.ecrRepos.get(key, signal);
    const pub = await publicOf(accountId, name, signal);
    const images = await deps.images.describeImages(key, undefined, 'ANY', undefined, 1000, signal);
    const policy = extra.policy ?? (await deps.ecrRepos.getPolicy(key, signal).catch(() => ''));
    return sendPage(reply.code(status), repositoryPage(web.page, {
      repository, ...(pub ? { publicName: pub.record.shortName } : {}), alias: await deps.publicRepos.alias(accountId, signal),
      images: [...images.images].sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime()), policy, region: deps.region, ...extra,
    }));
  }

  app.post('/ui/console/action', csrf, async (req, reply) => {
    const web = requireUser(req, reply);
    if (!web) return reply;
    const { accountId } = web.principal;
    const signal = AbortSignal.timeout(30_000);
    const b = req.body as Body;
    const name = field(b, 'repository', 256);
    const key = repoKey(accountId, name);
    switch (field(b, 'action', 40)) {
      case 'delete-image': {
        await web.authorize('ecr:BatchDeleteImage', { repository: key });
        await deps.ecrRepos.get(key, signal);
        const r = await deps.images.batchDelete(key, [{ imageDigest: field(b, 'digest', 200) }], signal);
        const failure = r.failures[0];
        return showRepository(req, reply, web, name, { message: failure ? { kind: 'error', text: failure.failureReason ?? 'The image could not be deleted.' } : { kind: 'ok', text: 'Image deleted.' } });
      }
      case 'set-policy': {
        const text = field(b, 'policy', 10_240).trim();
        await web.authorize(text ? 'ecr:SetRepositoryPolicy' : 'ecr:DeleteRepositoryPolicy', { repository: key });
        try {
          if (text) await deps.ecrRepos.setPolicy(key, text, signal);
          else await deps.ecrRepos.deletePolicy(key, signal).catch((e: unknown) => { if (!isBerthError(e) || e.code !== 'RepositoryPolicyNotFound') throw e; });
        } catch (err) {
          if (!isBerthError(err) || err.code !== 'InvalidParameter') throw err;
          return showRepository(req, reply, web, name, { policyError: err.message, policy: text }, 400);
        }
        deps.onPolicyChange();
        return showRepository(req, reply, web, name, { message: { kind: 'ok', text: text ? 'Policy saved.' : 'Policy removed.' } });
      }
      case 'delete-repository': {
        await web.authorize('ecr:DeleteRepository', { repository: key });
        const pub = await publicOf(accountId, name, signal);
        if (pub) await deps.publicRepos.delete(accountId, pub.record.shortName, field(b, 'force') === 'true', signal);
        else await deps.ecrRepos.delete(key, field(b, 'force') === 'true', signal);
        deps.onPolicyChange();
        return reply.redirect('/ui/console', 303);
      }
      default:
        throw fail('InvalidParameter', 'unknown console action');
    }
  });
}
