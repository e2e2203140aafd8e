import { ANONYMOUS, denied, type AccessControl, type AccessRequest, type Credentials, type Principal } from '../core/access.js';
import { fail } from '../core/errors.js';
import { rootArn, userArn, type AccessKey } from '../core/identity.js';
import type { IdentityStore } from '../core/ports/identity-store.js';
import type { Keyring } from '../core/ports/keyring.js';
import type { MetaStore, RepositorySettings } from '../core/ports/meta-store.js';
import { repoAccount, repoName, type RepoKey } from '../core/repo-key.js';
import { evaluate } from './policy/index.js';
import type { PolicySource } from './policy-source.js';
import type { RegistryTokens } from './registry-tokens.js';
import { TtlCache } from './ttl-cache.js';
import type { SessionIssuer } from './session-credentials.js';
import { verifySigV4, type IncomingSignedRequest } from './sigv4/index.js';
import { AnonymousTokens } from './anonymous-tokens.js';
import type { PullRateLimiter } from './pull-rate-limit.js';

export interface IamAccessDeps {
  identity: IdentityStore;
  meta: MetaStore;
  keyring: Keyring;
  tokens: RegistryTokens;
  policies: PolicySource;
  sessions: SessionIssuer;
  region: string;
  /** The account judged as resource owner for an anonymous caller's request that names no repository. */
  defaultAccountId: string;
  now?: () => Date;
  /** Extra check for allowed requests on a repository with KMS encryption (the key's own policy). */
  keyAccess?: (request: AccessRequest, encryption: RepositorySettings['encryption'], signal: AbortSignal) => Promise<void>;
  /**
   * ECR Public (issue 7): which repositories are public (`<alias>/<name>` → owner and short name),
   * the verifier of anonymous `/token` tokens and the pull rate limiter. Absent: no public registry.
   */
  public?: {
    lookup(repository: RepoKey, signal: AbortSignal): Promise<{ accountId: string; shortName: string } | undefined>;
    anonymousTokens: AnonymousTokens;
    rateLimiter: PullRateLimiter;
  };
}

/** Actions a pull of a public repository needs; anyone may perform them there (ECR Public). */
const PUBLIC_PULL_ACTIONS: ReadonlySet<string> = new Set(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:ListImages']);

/**
 * The caller presented a valid anonymous token from `/token`: still anonymous for every decision,
 * but logged in as far as `GET /v2/` is concerned (the Docker token flow's ping).
 */
export const TOKEN_ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

/**
 * Authentication (SigV4 on the AWS surfaces, `AWS:<token>` Basic on `/v2`) and the one
 * authorization decision point: IAM evaluation over identity, repository and registry policies.
 */
/**
 * How long a verified registry token's principal and a repository's owner are reused on this
 * node. Deactivating a key or deleting a repository takes effect within this time.
 */
export const ACCESS_CACHE_MS = 5_000;

export class IamAccessControl implements AccessControl {
  readonly createRepositoryOnPush = false;
  readonly #now: () => Date;
  readonly #tokens = new TtlCache<Principal & { kind: 'iam' }>(ACCESS_CACHE_MS, 10_000);
  readonly #owners = new TtlCache<Owner>(ACCESS_CACHE_MS, 10_000);
  readonly #anonymousTokens = new TtlCache<true>(ACCESS_CACHE_MS, 10_000);

  constructor(private readonly deps: IamAccessDeps) {
    this.#now = deps.now ?? (() => new Date());
    deps.policies.onInvalidate(() => {
      this.#tokens.clear();
      this.#owners.clear();
    });
  }

  /** `/v2` credentials: none (anonymous) or Basic `AWS:<registry token>`. */
  async authenticate(credentials: Credentials, signal: AbortSignal): Promise<Principal> {
    if (credentials.kind === 'none') return ANONYMOUS;
    // Docker token flow (issue 7): Bearer carries an anonymous pull token or, for logged-in
    // clients, the same registry token their Basic login holds (what `/token` hands back).
    if (credentials.kind === 'bearer' && this.deps.public && AnonymousTokens.looksLike(credentials.token)) {
      const now = this.#now().getTime();
      if (!this.#anonymousTokens.has(credentials.token, now)) {
        const { expiresAt } = this.deps.public.anonymousTokens.verify(credentials.token, this.#now());
        this.#anonymousTokens.set(credentials.token, true, now, expiresAt.getTime());
      }
      return TOKEN_ANONYMOUS;
    }
    if (credentials.kind === 'basic' && credentials.username !== 'AWS') throw fail('Unauthenticated', 'the username must be AWS; log in with aws ecr get-login-password');
    const secret = credentials.kind === 'basic' ? credentials.password : credentials.token;
    const now = this.#now();
    const cached = this.#tokens.get(secret, now.getTime());
    if (cached) return cached;
    const epoch = this.#tokens.epoch;
    const claims = this.deps.tokens.verify(secret, now);
    const key = await this.#activeKey(claims.accessKeyId, signal);
    if (!key) throw fail('Unauthenticated', 'the credentials behind this token were deleted or deactivated');
    const principal = await this.#principalOf(key, signal);
    this.#tokens.set(secret, principal, now.getTime(), claims.expiresAt.getTime(), epoch);
    return principal;
  }

  /** Verifies a SigV4-signed AWS API request for one of `services`; throws `SigV4Error`. */
  async authenticateAws(req: IncomingSignedRequest, services: readonly string[]): Promise<Principal & { kind: 'iam' }> {
    const signal = AbortSignal.timeout(10_000);
    const verified = await verifySigV4<AccessKey>(req, {
      now: this.#now(), region: this.deps.region, services,
      lookup: async (accessKeyId) => {
        if (accessKeyId.startsWith('ASIA')) return this.#sessionKey(accessKeyId, securityToken(req), signal);
        const key = await this.#activeKey(accessKeyId, signal);
        if (!key) return undefined;
        const secret = Buffer.from(this.deps.keyring.open(key.secretCiphertext, key.accessKeyId)).toString('utf8');
        return { secretAccessKey: secret, principal: key };
      },
    });
    const key = verified.principal!;
    void this.deps.identity.touchAccessKey(key.accessKeyId, this.#now(), signal).catch(() => {});
    const principal = await this.#principalOf(key, signal);
    return verified.sessionCredentials ? { ...principal, session: true } : principal;
  }

  assertAuthenticated(principal: Principal, opts: { ping?: boolean } = {}): void {
    if (principal.kind === 'anonymous' && !(opts.ping === true && principal === TOKEN_ANONYMOUS)) throw fail('Unauthenticated', 'authentication required');
  }

  async authorize(request: AccessRequest, signal: AbortSignal): Promise<void> {
    const { principal, repository } = request;
    let { action } = request;
    const owner = repository ? await this.#owner(repository, signal) : undefined;
    // A repository is always judged in its own account, existing or not: the caller's account
    // never stands in for it (else a name in another account would be checked as one's own).
    const resourceAccount = repository ? repoAccount(repository)
      : principal.kind === 'iam' ? principal.accountId : this.deps.defaultAccountId;
    // ECR Public (issue 7): pulls of a public repository need no permission (rate-limited per
    // client); anything else is the `ecr-public:` action on its `arn:aws:ecr-public::` ARN.
    // Nor does the key policy of a KMS-encrypted public repository apply to its pulls: publishing
    // it lets anyone read it, and the registry decrypts on the owner's behalf (a disabled key still
    // stops the pull, in the blob store).
    if (owner?.publicName !== undefined) {
      if (PUBLIC_PULL_ACTIONS.has(action)) {
        if (action === 'ecr:BatchGetImage') await this.deps.public?.rateLimiter.take(principal.kind === 'iam' ? principal.arn : request.context.sourceIp, principal.kind === 'iam', signal);
        return;
      }
      if (action.startsWith('ecr:')) action = `ecr-public:${action.slice(4)}`;
    }
    const resource = repository
      ? owner?.publicName !== undefined
        ? `arn:aws:ecr-public::${resourceAccount}:repository/${owner.publicName}`
        : `arn:aws:ecr:${this.deps.region}:${resourceAccount}:repository/${repoName(repository)}`
      : request.resource ?? '*';
    const resourcePolicies = await this.deps.policies.repositoryPolicies(owner ? repository : undefined, resourceAccount, signal);
    const identityPolicies = principal.kind === 'iam' && principal.userName
      ? await this.deps.policies.userPolicies(principal.accountId, principal.userName, signal)
      : [];
    const result = evaluate({
      action, resource, resourceAccount, identityPolicies, resourcePolicies,
      principal: principal.kind === 'iam'
        ? { arn: principal.arn, account: principal.accountId, isRoot: !principal.userName }
        : { arn: '*', account: '', anonymous: true },
      context: {
        'aws:SourceIp': request.context.sourceIp,
        'aws:SecureTransport': request.context.secureTransport,
        'aws:CurrentTime': this.#now(),
        ...(principal.kind === 'iam' && principal.userName ? { 'aws:username': principal.userName } : {}),
        ...tagContext(owner?.tags, request.requestTags),
      },
    });
    if (result.decision === 'Allow') {
      if (owner && this.deps.keyAccess) await this.deps.keyAccess(request, owner.encryption, signal);
      return;
    }
    // An anonymous caller that is not allowed must be asked to log in, not told "denied".
    if (principal.kind === 'anonymous') throw fail('Unauthenticated', 'authentication required');
    denied(principal, action, resource, result.decision === 'ExplicitDeny' ? 'an explicit deny applies' : undefined);
  }

  /**
   * Drops what this node remembers about a repository (its owner and tags), or about every
   * repository when `repository` is undefined: called on a change notification from any node.
   */
  forgetRepository(repository: RepoKey | undefined): void {
    if (repository === undefined) this.#owners.clear();
    else this.#owners.delete(repository);
  }

  /** The account owning a repository and its tags, or `undefined` when it does not exist (briefly cached). */
  async #owner(repository: RepoKey, signal: AbortSignal): Promise<Owner | undefined> {
    const now = Date.now();
    if (this.#owners.has(repository, now)) return this.#owners.get(repository, now);
    const epoch = this.#owners.epoch;
    const repo = await this.deps.meta.getRepository(repository, signal);
    const pub = repo && this.deps.public ? await this.deps.public.lookup(repository, signal) : undefined;
    const owner = repo && { accountId: repo.accountId, tags: repo.settings.tags, encryption: repo.settings.encryption, ...(pub ? { publicName: pub.shortName } : {}) };
    // Only existing repositories are remembered: a repository created a moment later must be seen.
    if (owner) this.#owners.set(repository, owner, now, undefined, epoch);
    return owner;
  }

  /** The principal a key acts as; a user's ARN carries the user's path, as IAM's does. */
  async #principalOf(key: AccessKey, signal: AbortSignal): Promise<Principal & { kind: 'iam' }> {
    if (key.userName === null) return { kind: 'iam', arn: rootArn(key.accountId), accountId: key.accountId, accessKeyId: key.accessKeyId };
    const user = await this.deps.identity.getUser(key.accountId, key.userName, signal);
    if (!user) throw fail('Unauthenticated', 'the user of these credentials no longer exists');
    return { kind: 'iam', arn: userArn(user), accountId: key.accountId, userName: user.userName, accessKeyId: key.accessKeyId };
  }

  /**
   * STS session credentials: the token carries the sealed session; it works while it has not
   * expired (checked by the verifier) and its parent key is still active.
   */
  async #sessionKey(accessKeyId: string, token: string | undefined, signal: AbortSignal) {
    const session = token ? this.deps.sessions.open(accessKeyId, token) : undefined;
    if (!session || !token) return undefined;
    const parent = await this.#activeKey(session.parentAccessKeyId, signal);
    if (!parent) return undefined;
    return { secretAccessKey: session.secretAccessKey, sessionToken: token, expiresAt: session.expiresAt, principal: parent };
  }

  async #activeKey(accessKeyId: string, signal: AbortSignal): Promise<AccessKey | undefined> {
    const key = await this.deps.identity.getAccessKey(accessKeyId, signal);
    return key && key.status === 'Active' ? key : undefined;
  }
}

/** The account owning a repository, its tags, its encryption (for the key-policy check), and its ECR Public name when it is public. */
interface Owner {
  accountId: string;
  tags: { Key: string; Value: string }[];
  encryption: RepositorySettings['encryption'];
  publicName?: string;
}

/** `aws:ResourceTag/*` and `ecr:ResourceTag/*` from the repository, `aws:RequestTag/*` and `aws:TagKeys` from the request. */
function tagContext(resourceTags: { Key: string; Value: string }[] | undefined, requestTags: { Key: string; Value: string }[] | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const t of resourceTags ?? []) {
    out[`aws:ResourceTag/${t.Key}`] = t.Value;
    out[`ecr:ResourceTag/${t.Key}`] = t.Value;
  }
  if (requestTags) {
    for (const t of requestTags) out[`aws:RequestTag/${t.Key}`] = t.Value;
    out['aws:TagKeys'] = requestTags.map((t) => t.Key);
  }
  return out;
}

/** `X-Amz-Security-Token` from the header or, for presigned requests, the query. */
function securityToken(req: IncomingSignedRequest): string | undefined {
  const header = req.headers['x-amz-security-token'];
  if (typeof header === 'string') return header;
  const m = /(?:^|&)X-Amz-Security-Token=([^&]*)/.exec(req.rawQuery);
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}
