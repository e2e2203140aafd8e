import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AccessControl } from '../../core/access.js';
import { isBerthError } from '../../core/errors.js';
import type { AnonymousTokens } from '../../auth/anonymous-tokens.js';
import { readCredentials } from '../oci/credentials.js';

export interface TokenDeps {
  access: AccessControl;
  anonymousTokens: AnonymousTokens;
  /** Whether `name` (as on `/v2`) is a public repository. */
  isPublic(name: string, signal: AbortSignal): Promise<boolean>;
}

/** `repository:<name>:<actions>` scopes of a token request (several `scope` params, or space-separated). */
function requestedRepositories(scopes: string[]): { name: string; actions: string[] }[] {
  const out = [];
  for (const scope of scopes.flatMap((s) => s.split(' '))) {
    const m = /^repository(?:\([^)]*\))?:(.+):([a-z*,]+)$/.exec(scope);
    if (m?.[1] && m[2]) out.push({ name: m[1], actions: m[2].split(',') });
  }
  return out.slice(0, 20);
}

/**
 * `GET /token`, the Docker token flow's token server. Without credentials it issues an anonymous
 * token granting pulls of the public repositories among the requested scopes (no others, and
 * nothing that reveals whether a private one exists). With Basic `AWS:<registry token>` (what
 * `docker login` stored) it checks the login and hands the registry token back as the bearer token,
 * so IAM keeps deciding every request exactly as for Basic.
 */
export async function tokenPlugin(app: FastifyInstance, deps: TokenDeps): Promise<void> {
  const unauthorized = (reply: FastifyReply, message: string) => reply.code(401).header('content-type', 'application/json')
    .header('www-authenticate', 'Basic realm="berth"').send({ errors: [{ code: 'UNAUTHORIZED', message, detail: null }] });

  app.get('/token', async (req, reply) => {
    const query = req.query as Record<string, string | string[] | undefined>;
    const scopes = ([] as string[]).concat(query.scope ?? []);
    const signal = AbortSignal.timeout(10_000);
    const credentials = readCredentials(req);
    const issuedAt = new Date();
    reply.header('cache-control', 'no-store');
    if (credentials.kind === 'basic') {
      try {
        await deps.access.authenticate(credentials, signal);
      } catch (err) {
        if (isBerthError(err) && err.code === 'Unauthenticated') return unauthorized(reply, err.message);
        throw err;
      }
      // The registry token is itself the bearer token: self-contained, MAC-protected, 12 h.
      return reply.send({ token: credentials.password, access_token: credentials.password, expires_in: 3600, issued_at: issuedAt.toISOString() });
    }
    const granted: string[] = [];
    for (const { name, actions } of requestedRepositories(scopes)) {
      if ((actions.includes('pull') || actions.includes('*')) && (await deps.isPublic(name, signal))) granted.push(name);
    }
    const { token, expiresIn } = deps.anonymousTokens.issue(granted, issuedAt);
    return reply.send({ token, access_token: token, expires_in: expiresIn, issued_at: issuedAt.toISOString() });
  });
}
