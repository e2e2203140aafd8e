import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessControl, EcrAction, Principal } from '../../core/access.js';
import type { RepoKey } from '../../core/repo-key.js';
import type { BlobService } from '../../core/services/blobs.js';
import type { ManifestService } from '../../core/services/manifests.js';
import type { RepositoryService } from '../../core/services/repositories.js';
import type { UploadService } from '../../core/services/uploads.js';

export interface OciDeps {
  repos: RepositoryService;
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  access: AccessControl;
  limits: { maxPageSize: number };
  /** Verifies presigned download URLs (ECR GetDownloadUrlForLayer); absent: none are accepted. */
  presignedUrls?: { verify(accountId: string, path: string, query: Record<string, string | undefined>, now: Date): boolean };
  /** Which account (registry) a request addressed, by its Host header. */
  accounts: { accountOf(hostHeader: string | undefined): string };
  /**
   * ECR Public (issue 7): the account owning the public registry alias a name starts with
   * (`<alias>/<name>`), so public repositories resolve on every host; absent: none.
   */
  publicOwner?: (name: string, signal: AbortSignal) => Promise<string | undefined>;
  /** The `WWW-Authenticate` value of 401s (the Docker token flow's Bearer challenge); absent: Basic. */
  challenge?: (req: FastifyRequest) => string;
}

/** What a `/v2` handler gets: the matched path parts, the caller, and a signal that fires if the client goes away. */
export interface OciContext {
  req: FastifyRequest;
  reply: FastifyReply;
  deps: OciDeps;
  /** Repository name from the path (raw, validated by the services), as clients see it. */
  name: string;
  /** The account whose registry the request addressed (by its host). */
  accountId: string;
  /** The repository: `name` in that account. */
  repo: RepoKey;
  /** Other path parts: `reference`, `digest` or `id`, percent-decoded. */
  params: Record<string, string>;
  principal: Principal;
  signal: AbortSignal;
  /** Authorizes a further action, e.g. the pull side of a cross-repository mount. */
  authorize(action: EcrAction, repository: RepoKey): Promise<void>;
}

/** A `/v2` route: the ECR action it needs and its handler. `action: null` means authentication only. */
export interface OciRoute {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Metrics label. */
  label: string;
  pattern: RegExp;
  action: EcrAction | null;
  handle(ctx: OciContext): Promise<void>;
}
