import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import type { Server as TlsServer } from 'node:tls';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AllowAllAccess } from './auth/allow-all.js';
import { IamAccessControl } from './auth/iam-access.js';
import { IamService } from './auth/iam-service.js';
import { parsePolicy } from './auth/policy/index.js';
import { PolicySource } from './auth/policy-source.js';
import { RegistryTokens } from './auth/registry-tokens.js';
import { SessionIssuer } from './auth/session-credentials.js';
import { UrlSigner } from './auth/url-signer.js';
import { ensureRootCredentials, type RootCredentials } from './auth/bootstrap.js';
import type { Config } from './config/schema.js';
import { redactConfig } from './config/redact.js';
import { createLogger } from './config/logger.js';
import { LocalEventBus, type EventBus } from './core/events.js';
import type { BlobStore } from './core/ports/blob-store.js';
import type { IdentityStore } from './core/ports/identity-store.js';
import type { ChangeFeed } from './core/ports/change-feed.js';
import type { MetaStore } from './core/ports/meta-store.js';
import { repoAccount, repoKey, repoName } from './core/repo-key.js';
import { BlobService } from './core/services/blobs.js';
import { EcrImageService } from './core/services/ecr/images.js';
import { EcrLayerService } from './core/services/ecr/layers.js';
import { EcrRepositoryService } from './core/services/ecr/repositories.js';
import { ManifestService } from './core/services/manifests.js';
import { RepositoryService } from './core/services/repositories.js';
import { UploadService } from './core/services/uploads.js';
import { MasterKeyring } from './crypto/keyring.js';
import { loadMasterKey } from './crypto/master-key.js';
import { ecrOperations } from './http/ecr/index.js';
import type { AwsOperations } from './http/aws/context.js';
import { iamOperations } from './http/iam/index.js';
import { stsOperations } from './http/sts/index.js';
import { kmsOperations } from './http/kms/index.js';
import { KmsAuthorizer } from './auth/kms-access.js';
import { KmsKeys } from './core/services/kms/keys.js';
import { KmsCrypto } from './core/services/kms/kms-crypto.js';
import type { KeyStore } from './core/ports/key-store.js';
import { openSqliteKeyStore } from './storage/meta/sqlite/sqlite-key-store.js';
import { KeyringSealer } from './crypto/kms/sealer.js';
import { AwsKmsSealer } from './crypto/kms/external-sealer.js';
import { DataKeyWrapping } from './crypto/blob/data-keys.js';
import { EncryptedBlobStore } from './crypto/blob/encrypted-blob-store.js';
import { RepositoryKeys } from './core/services/kms/repository-keys.js';
import type { Keyring } from './core/ports/keyring.js';
import { AccountHosts } from './http/account-hosts.js';
import { Metrics } from './http/metrics.js';
import { connectionsDrained, destroyConnections, retireConnections } from './http/connections.js';
import { buildServer } from './http/server.js';
import { FsBlobStore } from './storage/blob/fs/fs-blob-store.js';
import { MemoryBlobStore } from './storage/blob/memory/memory-blob-store.js';
import { openS3BlobStore } from './app/s3-blobs.js';
import { MemoryIdentityStore } from './storage/meta/memory/memory-identity-store.js';
import { MemoryMetaStore } from './storage/meta/memory/memory-meta-store.js';
import { openSqliteIdentityStore } from './storage/meta/sqlite/sqlite-identity-store.js';
import { openSqliteMetaStore } from './storage/meta/sqlite/sqlite-meta-store.js';
import { requestArrived } from './storage/meta/sqlite/shared-reads.js';
import { removeCredentialsFileOf, writeCredentialsFile } from './config/credentials-file.js';
import type { GcStore } from './core/ports/gc-store.js';
import type { LifecycleStore } from './core/ports/lifecycle-store.js';
import { periodic } from './core/periodic.js';
import { GarbageCollector, type GcOptions, type GcReport } from './core/services/gc.js';
import { register as registerLifecycle, type LifecycleFeature, type RepositoryRun } from './lifecycle/index.js';
import { MemoryLifecycleStore } from './storage/meta/memory/memory-lifecycle-store.js';
import { openSqliteGcStore } from './storage/meta/sqlite/sqlite-gc-store.js';
import { openSqliteLifecycleStore } from './storage/meta/sqlite/sqlite-lifecycle-store.js';
import { startScanning, type ScanComposition } from './app/scan.js';
import { openPostgresIdentity, openPostgresLifecycle, openPostgresPublic } from './app/postgres.js';
import { wireCacheInvalidation } from './app/change-wiring.js';
import { openChangeFeed, openSharedLimits, openSingletonLock } from './app/scale-out.js';
import { AnonymousTokens } from './auth/anonymous-tokens.js';
import { PullRateLimiter } from './auth/pull-rate-limit.js';
import type { LoginProfileStore } from './core/ports/login-profiles.js';
import type { PublicRegistryStore } from './core/ports/public-registry.js';
import { PublicRepositoryService } from './core/services/public/public-repositories.js';
import { LoginProfileService } from './core/services/console/login-profiles.js';
import { ecrPublicOperations } from './http/ecr-public/index.js';
import { logoRoutes } from './http/ecr-public/logo-route.js';
import { bearerChallenge } from './http/token/challenge.js';
import { tokenPlugin } from './http/token/plugin.js';
import { webPlugin } from './web/plugin.js';
import { openSqliteLoginProfiles } from './storage/meta/sqlite/sqlite-login-profiles.js';
import { openSqlitePublicRegistry } from './storage/meta/sqlite/sqlite-public-registry.js';

/** A running composition: the server plus what must be closed after it. */
export interface App {
  server: FastifyInstance;
  meta: MetaStore;
  blobs: BlobStore;
  identity: IdentityStore;
  logger: Logger;
  /** The default account's root access key (for tests and the first-start message). */
  rootCredentials: RootCredentials;
  lifecycle: LifecycleFeature;
  /** Online garbage collection; absent on the in-memory metadata backend. */
  gc?: GarbageCollector;
  /** The vulnerability scanning module (job runner, stores). */
  scan: ScanComposition;
  /** Domain events of this process (feature modules and tests subscribe). */
  events: EventBus;
  /** ECR Public's registries and repositories (for benchmarks and tests that seed many). */
  publicRepos: PublicRepositoryService;
  /**
   * Stops accepting, lets in-flight requests finish (up to the grace period), closes backends, and
   * logs `stoppedMessage` (default "berth stopped").
   */
  close(stoppedMessage?: string): Promise<void>;
  /**
   * Lets the connections go without cutting any (each one's next response closes it; the server
   * must get no new ones), then closes like `close` — a supervisor whose workers took over.
   */
  retire(stoppedMessage: string): Promise<void>;
  /** Re-reads `tls.certFile`/`tls.keyFile` for new connections (SIGHUP); rejects (keeping the old pair) when unreadable. */
  reloadTls(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /**
   * Test seam: serve `/v2` without authentication and let pushes create repositories, as the
   * foundation did. Not reachable from config or flags, so no deployment can switch IAM off.
   */
  openRegistry?: boolean;
  /**
   * Benchmark seam: serve blobs without the encrypting wrapper, so `bench/encryption.ts` can put
   * a figure on its cost. Not reachable from config, flags or environment: no deployment stores
   * plaintext.
   */
  plaintextBlobs?: boolean;
  env?: NodeJS.ProcessEnv;
  /** The cross-node change feed to use instead of the configured one (tests run two apps on one). */
  changeFeed?: ChangeFeed;
}

/** The ONLY place that names implementations: config → backends → services → http. */
export async function openBackends(config: Config): Promise<{ meta: MetaStore; blobs: BlobStore; identity: IdentityStore; keys: KeyStore }> {
  const { meta, blobs } = await openDataBackends(config);
  const dbPath = join(resolve(config.dataDir), 'meta.db');
  // After the metadata store: both migrate the same file (or database) under its lock.
  const identity = config.storage.meta === 'sqlite' ? await openSqliteIdentityStore({ path: dbPath })
    : config.storage.meta === 'postgres' ? await openPostgresIdentity(config) : new MemoryIdentityStore();
  const keys = await openKeyStore(config, dbPath);
  return { meta, blobs, identity, keys };
}

/** The metadata and blob stores only (what `berth fsck` reads). */
export async function openDataBackends(config: Config): Promise<{ meta: MetaStore; blobs: BlobStore }> {
  const dataDir = resolve(config.dataDir);
  if (config.storage.meta === 'sqlite' || config.storage.blob === 'fs') await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const meta = await openMeta(config, join(dataDir, 'meta.db'));
  const blobs = config.storage.blob === 's3' ? await openS3BlobStore(config) : config.storage.blob === 'fs' ? await FsBlobStore.open({ root: dataDir }) : new MemoryBlobStore();
  return { meta, blobs };
}

async function openMeta(config: Config, dbPath: string): Promise<MetaStore> {
  if (config.storage.meta === 'sqlite') return openSqliteMetaStore({ path: dbPath });
  if (config.storage.meta === 'memory') return new MemoryMetaStore();
  // Loaded on demand, so the embedded default never loads `pg` (start-up time, issue 12).
  const { openPostgresMetaStore } = await import('./storage/meta/postgres/pg-meta-store.js');
  const { url, poolSize } = config.postgres;
  // The schema refuses storage.meta: postgres without a URL; this guards a hand-built Config.
  if (url === undefined) throw new Error('postgres.url is required when storage.meta is postgres');
  return openPostgresMetaStore({ url, poolSize });
}

/** The key service's store on the metadata backend (`dbPath`: the SQLite file, when that is the backend). */
export async function openKeyStore(config: Config, dbPath: string): Promise<KeyStore> {
  if (config.storage.meta === 'postgres') {
    // Loaded on demand, so the embedded default never loads `pg` (start-up time, issue 12).
    const { openPostgresKeyStore } = await import('./storage/meta/postgres/pg-key-store.js');
    const { url, poolSize } = config.postgres;
    if (url === undefined) throw new Error('postgres.url is required when storage.meta is postgres');
    return openPostgresKeyStore({ url, poolSize });
  }
  // No hand-written memory twin: SQLite's own :memory: mode serves the memory backend.
  return openSqliteKeyStore({ path: config.storage.meta === 'sqlite' ? dbPath : ':memory:' });
}

/**
 * The blob store every service sees: `raw` behind the encrypting wrapper (every blob encrypted
 * at rest; data keys wrapped by the service key or the repository's KMS key).
 */
export function encryptBlobs(raw: BlobStore, keyStore: KeyStore, keyring: Keyring, kms: { keys: KmsKeys; crypto: KmsCrypto }, redirect = false): EncryptedBlobStore {
  // storage.redirect: AES256 repositories' blobs are plain objects (the store's SSE encrypts them).
  return new EncryptedBlobStore(raw, keyStore, new DataKeyWrapping(keyStore, keyring, kms), keyring, { plainServiceScope: redirect });
}

/**
 * The backends as the services see them (blobs behind the encrypting wrapper), for offline
 * commands (`berth fsck`, `berth encrypt-existing`) that run beside a server on the same data.
 */
export async function openEncryptedBackends(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<{ meta: MetaStore; blobs: EncryptedBlobStore; close(): Promise<void> }> {
  const keyring = await masterKeyring(config, env);
  const { meta, blobs: raw, identity, keys } = await openBackends(config);
  const blobs = encryptBlobs(raw, keys, keyring, keyService(keys, keyring, config), config.storage.redirect);
  return {
    meta, blobs,
    async close() {
      await meta.close();
      await identity.close();
      await keys.close();
      await blobs.close();
    },
  };
}

/**
 * The master keyring of `config`'s registry: `BERTH_MASTER_KEY`, else `<dataDir>/master.key`
 * (created on first use). On PostgreSQL the key must come from the environment: a file would be
 * this machine's alone, and data sealed by the nodes' shared key could not be opened with it.
 */
export async function masterKeyring(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<MasterKeyring> {
  if (config.storage.meta === 'postgres' && !env.BERTH_MASTER_KEY) throw new Error('storage.meta: postgres needs BERTH_MASTER_KEY (the same base64 32-byte key on every node; see docs/scale-out.md)');
  return new MasterKeyring((await loadMasterKey(resolve(config.dataDir), env)).key);
}

/** The key service over a key store, its material sealed by the master keyring. */
export function keyService(keyStore: KeyStore, keyring: Keyring, config: Config): { keys: KmsKeys; crypto: KmsCrypto } {
  const external = config.kms.externalKeyArn;
  const sealer = external
    ? new AwsKmsSealer({ keyId: external, region: config.kms.externalRegion ?? config.region, ...(config.kms.externalEndpoint ? { endpoint: config.kms.externalEndpoint } : {}) })
    : new KeyringSealer(keyring);
  const keys = new KmsKeys(keyStore, sealer, config.region);
  return { keys, crypto: new KmsCrypto(keys) };
}

/** The lifecycle and GC stores over the metadata backend (GC needs the SQL backend's fence). */
export async function openLifecycleBackends(config: Config, meta: MetaStore): Promise<{ lifecycleStore: LifecycleStore; gcStore?: GcStore }> {
  if (config.storage.meta === 'postgres') return openPostgresLifecycle(config);
  if (config.storage.meta !== 'sqlite') return { lifecycleStore: new MemoryLifecycleStore(meta) };
  const path = join(resolve(config.dataDir), 'meta.db');
  return { lifecycleStore: await openSqliteLifecycleStore({ path }), gcStore: await openSqliteGcStore({ path }) };
}

/** GC options from the configuration. */
export function gcOptions(config: Config, extra: Partial<GcOptions> = {}): GcOptions {
  return { graceMs: config.gc.graceSeconds * 1000, uploadMaxAgeMs: config.gc.uploadMaxAgeHours * 3_600_000, ...extra };
}

/**
 * Opens the backends (blobs behind the encrypting wrapper, so a GC'd blob's data-key wrappings go
 * with its bytes) and the lifecycle/GC stores for a one-off CLI run, hands them to `work`, and
 * closes everything afterwards whatever `work` does.
 */
async function withLifecycleBackends<T>(config: Config, work: (b: { meta: MetaStore; blobs: BlobStore; lifecycleStore: LifecycleStore; gcStore: GcStore | undefined }) => Promise<T>): Promise<T> {
  const { meta, blobs, close } = await openEncryptedBackends(config);
  const { lifecycleStore, gcStore } = await openLifecycleBackends(config, meta);
  try {
    return await work({ meta, blobs, lifecycleStore, gcStore });
  } finally {
    await gcStore?.close();
    await lifecycleStore.close();
    await close();
  }
}

/** One garbage collection over the data directory, for `berth gc`; safe while servers run on it. */
export function runGc(config: Config, extra: Partial<GcOptions>, signal: AbortSignal): Promise<GcReport> {
  return withLifecycleBackends(config, ({ meta, blobs, gcStore }) => {
    if (!gcStore) throw new Error('garbage collection needs an SQL metadata backend (storage.meta: sqlite or postgres)');
    return new GarbageCollector(meta, blobs, gcStore, undefined).run(gcOptions(config, extra), signal);
  });
}

/** One application of lifecycle policies, for `berth lifecycle run`; safe while servers run on the data directory. */
export function runLifecycle(config: Config, opts: { repository?: string; accountId?: string; dryRun?: boolean }, signal: AbortSignal): Promise<RepositoryRun[]> {
  return withLifecycleBackends(config, ({ meta, lifecycleStore }) => {
    const events = new LocalEventBus();
    const repos = new RepositoryService(meta, events);
    const images = new EcrImageService(meta, new ManifestService(meta, repos, events), events);
    const feature = registerLifecycle({ meta, store: lifecycleStore, images, events, intervalMinutes: 0, log: { info: () => {}, error: () => {} } });
    return feature.executor.run(opts, signal);
  });
}

/**
 * The public-registry and login-profile stores (issue 7): on the shared database for PostgreSQL; on
 * the metadata file for SQLite; on a private in-memory SQLite database for the memory backend (no
 * hand-written twin to keep in step).
 */
export async function openPublicStores(config: Config): Promise<{ publicRegistry: PublicRegistryStore & { close(): Promise<void> }; loginProfiles: LoginProfileStore & { close(): Promise<void> } }> {
  if (config.storage.meta === 'postgres') return openPostgresPublic(config);
  const path = config.storage.meta === 'sqlite' ? join(resolve(config.dataDir), 'meta.db') : ':memory:';
  return { publicRegistry: await openSqlitePublicRegistry({ path }), loginProfiles: await openSqliteLoginProfiles({ path }) };
}

/**
 * Writes a just-created root key of the default account to `<data-dir>/credentials` and says where. A key
 * preset through `BERTH_ROOT_*` is the operator's: its secret stays in their environment and is written
 * nowhere, so no file is written (and one an earlier release wrote for that key is removed).
 */
async function announceRoot(config: Config, root: RootCredentials, logger: Logger): Promise<void> {
  const file = join(resolve(config.dataDir), 'credentials');
  if (root.preset) {
    if (await removeCredentialsFileOf(file, root.accessKeyId)) logger.info({ file }, `removed ${file}: it held the preset root key's secret`);
    if (root.created) logger.info({ accessKeyId: root.accessKeyId }, `root key of account ${config.accountId} preset by BERTH_ROOT_ACCESS_KEY_ID; its secret is not written to disk`);
    return;
  }
  if (!root.created) return;
  // On PostgreSQL + S3 the data directory holds nothing else and may not exist yet.
  await mkdir(resolve(config.dataDir), { recursive: true, mode: 0o700 });
  await writeCredentialsFile(file, root, config.region);
  logger.info({ file, accessKeyId: root.accessKeyId }, `root credentials of account ${config.accountId} written to ${file}`);
}

/**
 * Adds an account (beside the default one) with a root access key, for `berth account create`.
 * Safe while a server runs on the same data directory. Resolves with the root key.
 */
export async function createAccount(config: Config, accountId: string, env: NodeJS.ProcessEnv = process.env, opts: { alias?: string } = {}): Promise<RootCredentials & { alias: string }> {
  return withAccountStores(config, async ({ meta, identity, publicRegistry }) => {
    const keyring = await masterKeyring(config, env);
    const iam = new IamService(identity, keyring, new PolicySource(identity, meta));
    const root = await ensureRootCredentials(identity, iam, keyring, accountId, accountId === config.accountId ? env : {}, AbortSignal.timeout(30_000));
    const publicRepos = new PublicRepositoryService(meta, publicRegistry, new LocalEventBus(() => {}));
    const alias = await publicRepos.ensureAlias(accountId, opts.alias ?? (accountId === config.accountId ? config.public.alias : undefined), AbortSignal.timeout(30_000));
    return { ...root, alias };
  });
}

/**
 * Opens the backends and the public/login stores for a one-off account command, hands them to
 * `work`, and closes everything afterwards whatever `work` does.
 */
async function withAccountStores<T>(config: Config, work: (s: { meta: MetaStore; identity: IdentityStore; publicRegistry: PublicRegistryStore; loginProfiles: LoginProfileStore }) => Promise<T>): Promise<T> {
  const { meta, blobs, identity, keys } = await openBackends(config);
  const { publicRegistry, loginProfiles } = await openPublicStores(config);
  try {
    return await work({ meta, identity, publicRegistry, loginProfiles });
  } finally {
    await publicRegistry.close();
    await loginProfiles.close();
    await meta.close();
    await identity.close();
    await keys.close();
    await blobs.close();
  }
}

/** ECR's CreateRepository, refusing names inside a public registry alias (the namespaces are shared on `/v2`). */
function guardPrivateCreate(ops: AwsOperations, publicRepos: PublicRepositoryService): AwsOperations {
  const inner = ops.CreateRepository!;
  return {
    ...ops,
    CreateRepository: { ...inner, handle: async (input, ctx) => {
      await publicRepos.assertPrivateName(typeof input.repositoryName === 'string' ? input.repositoryName : '', ctx.signal);
      return inner.handle(input, ctx);
    } },
  };
}

/** Sets the console password of an account's root (`berth account root-password`). Safe while a server runs. */
export async function setRootPassword(config: Config, accountId: string, password: string): Promise<void> {
  await withAccountStores(config, async ({ identity, loginProfiles }) => {
    if (!(await identity.getAccount(accountId, AbortSignal.timeout(10_000)))) throw new Error(`account ${accountId} does not exist`);
    await new LoginProfileService(loginProfiles, identity).setRootPassword(accountId, password, AbortSignal.timeout(30_000));
  });
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? createLogger(config);
  logger.info({ config: redactConfig(config) }, 'starting berth');
  const { meta, blobs: rawBlobs, identity, keys: keyStore } = await openBackends(config);
  const { lifecycleStore, gcStore } = await openLifecycleBackends(config, meta);
  const { publicRegistry, loginProfiles } = await openPublicStores(config);
  const persistent = config.storage.meta !== 'memory';
  const keyring = persistent ? await masterKeyring(config, env) : new MasterKeyring(randomBytes(32));
  const kms = keyService(keyStore, keyring, config);
  const blobs = opts.plaintextBlobs ? rawBlobs : encryptBlobs(rawBlobs, keyStore, keyring, kms, config.storage.redirect);
  if (config.storage.redirect && !opts.plaintextBlobs) {
    const sse = config.s3.serverSideEncryption;
    logger.warn(`storage.redirect is on: blobs of AES256 repositories are stored as plain objects and encrypted at rest by the object store (s3.serverSideEncryption: ${sse}${sse === 'none' ? ', the bucket\'s default encryption' : ''}), not by berth; KMS repositories keep berth's encryption and are served by berth (docs/s3-storage.md)`);
  }
  const events = new LocalEventBus((err) => logger.error({ err }, 'event listener failed'));
  const policies = new PolicySource(identity, meta);
  const iam = new IamService(identity, keyring, policies);
  const tokens = new RegistryTokens(keyring);
  const urls = new UrlSigner(keyring);

  const root = await ensureRootCredentials(identity, iam, keyring, config.accountId, env, AbortSignal.timeout(30_000));
  if (persistent) await announceRoot(config, root, logger);

  const sessions = new SessionIssuer(keyring);
  const kmsAuthorizer = new KmsAuthorizer(policies, (account, ref, signal) => kms.keys.resolve(account, ref, signal));
  const publicRepos = new PublicRepositoryService(meta, publicRegistry, events);
  const loginService = new LoginProfileService(loginProfiles, identity);
  await publicRepos.ensureAlias(config.accountId, config.public.alias, AbortSignal.timeout(30_000));
  const anonymousTokens = new AnonymousTokens(keyring);
  const limits = await openSharedLimits(config);
  const access = opts.openRegistry ? new AllowAllAccess() : new IamAccessControl({
    identity, meta, keyring, tokens, policies, sessions, region: config.region, defaultAccountId: config.accountId,
    keyAccess: (request, encryption, signal) => kmsAuthorizer.authorizeRepositoryUse(request, encryption, signal),
    public: {
      lookup: async (key, signal) => {
        const found = await publicRepos.lookup(repoName(key), signal);
        return found?.record.accountId === repoAccount(key) ? found.record : undefined;
      },
      anonymousTokens,
      rateLimiter: new PullRateLimiter(
        { perSecond: config.public.anonymousPullsPerSecond, burst: config.public.anonymousPullBurst },
        { perSecond: config.public.authenticatedPullsPerSecond, burst: config.public.authenticatedPullBurst },
        Date.now, limits.buckets,
      ),
    },
  });
  const repos = new RepositoryService(meta, events);
  const hosts = new AccountHosts({ ...config.accountHosts, region: config.region, defaultAccountId: config.accountId });
  const blobService = new BlobService(meta, blobs, repos, { redirect: config.storage.redirect });
  const uploads = new UploadService(meta, blobs, repos, events, { maxBlobBytes: config.limits.maxBlobBytes });
  const manifests = new ManifestService(meta, repos, events);
  const ecrRepos = new EcrRepositoryService(meta, events, (text) => {
    // ECR accepts repeated statement ids in repository and registry policies (IAM does not).
    const r = parsePolicy(text, 'resource', { uniqueSids: false });
    return 'errors' in r ? [...r.errors] : [];
  });

  const ecrImages = new EcrImageService(meta, manifests, events);
  const singleton = await openSingletonLock(config);
  const lifecycle = registerLifecycle({ meta, store: lifecycleStore, images: ecrImages, events, intervalMinutes: config.lifecycle.intervalMinutes, log: logger, singleton });
  manifests.pullGate = lifecycle.api.pulls;
  const feed = opts.changeFeed ?? await openChangeFeed(config, logger);
  const unwireCaches = wireCacheInvalidation({
    feed, events, policies, manifests, ...(access instanceof IamAccessControl ? { access } : {}), log: logger,
    archive: lifecycle.api.pulls, aliases: publicRepos,
  });
  const gc = gcStore ? new GarbageCollector(meta, blobs, gcStore, events) : undefined;
  const gcSchedule = gc ? periodic(config.gc.intervalMinutes * 60_000, async (signal) => {
    const r = await gc.run(gcOptions(config), signal);
    logger.info({ gc: r }, `garbage collection freed ${r.blobsDeleted} blobs (${r.bytesReclaimed} bytes), swept ${r.uploadsSwept} uploads`);
  }, (err) => logger.error({ err }, 'garbage collection failed'), { lock: singleton, name: 'gc' }) : undefined;
  const scan = await startScanning(config, meta, blobs, manifests, events, logger);

  const ecrLayers = new EcrLayerService(meta, uploads);
  const ecr = ecrOperations({
    repos: ecrRepos, images: ecrImages, lifecycle: lifecycle.api, layers: ecrLayers,
    blobs: blobService, meta, tokens, urls, hosts, onPolicyChange: () => policies.invalidate(), scanning: scan.service,
    repositoryKeys: new RepositoryKeys(kms.keys),
  });
  let draining = false;
  const metrics = new Metrics();
  const server = await buildServer({
    logger, metrics, events, trustProxy: config.trustProxy, timeouts: config.timeouts, tls: await readTls(config),
    // When the SQLite store's reads of its transaction counter may be shared among requests.
    requestArrived,
    oci: {
      repos, blobs: blobService, uploads, manifests, access, limits: { maxPageSize: config.limits.maxPageSize }, presignedUrls: urls, accounts: hosts,
      publicOwner: (name, signal) => publicRepos.ownerOfName(name, signal),
      ...(access instanceof IamAccessControl ? { challenge: bearerChallenge } : {}),
    },
    aws: access instanceof IamAccessControl ? {
      access, region: config.region, bodyLimit: 64 * 1024 * 1024, publicUrl: config.publicUrl,
      json: {
        AmazonEC2ContainerRegistry_V20150921: {
          service: 'ecr', signingName: 'ecr',
          operations: guardPrivateCreate(ecr, publicRepos),
        },
        SpencerFrontendService: {
          service: 'ecr-public', signingName: 'ecr-public',
          operations: ecrPublicOperations({
            publicRepos, ecrRepos, images: ecrImages, layers: ecrLayers, tokens, onPolicyChange: () => policies.invalidate(),
          }),
        },
        TrentService: {
          service: 'kms', signingName: 'kms',
          operations: kmsOperations({ ...kms, authorizer: kmsAuthorizer }),
        },
      },
      query: {
        iam: { service: 'iam', operations: iamOperations({ iam, loginProfiles: loginService }) },
        sts: { service: 'sts', operations: stsOperations({ iam, sessions }) },
      },
    } : undefined,
    surfaces: [
      async (app) => {
        await app.register(logoRoutes, { publicRepos });
      },
      ...(access instanceof IamAccessControl ? [async (app: FastifyInstance) => {
        await app.register(tokenPlugin, {
          access, anonymousTokens, isPublic: async (name: string, signal: AbortSignal) => (await publicRepos.lookup(name, signal)) !== undefined,
        });
        await app.register(webPlugin, {
          publicRepos, ecrRepos, images: ecrImages, logins: loginService, access, region: config.region,
          cookieSecret: Buffer.from(keyring.mac('console-session-cookie', Buffer.from('v1'))), onPolicyChange: () => policies.invalidate(),
          signInFailures: limits.failures,
        });
      }] : []),
    ],
    ops: {
      draining: () => draining,
      // One cheap read per store; which one fails is what an operator needs to know.
      ready: {
        meta: (signal) => meta.getRepository(repoKey(config.accountId, 'readiness-probe'), signal),
        identity: (signal) => identity.getAccount(config.accountId, signal),
        blob: (signal) => blobs.uploadSize('readiness-probe', signal),
      },
    },
  });
  let closing: Promise<void> | undefined;
  const close = (stoppedMessage = 'berth stopped'): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      const grace = config.shutdownGraceSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((done) => {
        timer = setTimeout(() => {
          logger.warn('shutdown grace period over; closing remaining connections');
          server.server.closeAllConnections();
          destroyConnections(server);
          done();
        }, grace);
      });
      await Promise.race([server.close().then(() => connectionsDrained(server)), forced]);
      clearTimeout(timer);
      await scan.shutdown();
      await lifecycle.stop();
      await gcSchedule?.stop();
      unwireCaches();
      if (!opts.changeFeed) await feed.close();
      await limits.close();
      await singleton.close();
      await gcStore?.close();
      await lifecycleStore.close();
      await publicRegistry.close();
      await loginProfiles.close();
      await meta.close();
      await identity.close();
      await keyStore.close();
      await blobs.close();
      logger.info(stoppedMessage);
      logger.flush();
    })();
    return closing;
  };
  const reloadTls = async (): Promise<void> => {
    const tls = await readTls(config);
    if (tls && 'setSecureContext' in server.server) (server.server as unknown as TlsServer).setSecureContext(tls);
  };
  const retire = (stoppedMessage: string) => retireConnections(server).then(() => close(stoppedMessage));
  return { server, meta, blobs, identity, logger, rootCredentials: root, lifecycle, ...(gc ? { gc } : {}), scan, events, publicRepos, close, retire, reloadTls };
}

/** The certificate and key files named by `tls`, read now (start and SIGHUP). */
async function readTls(config: Config): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  const { certFile, keyFile } = config.tls;
  if (!certFile || !keyFile) return undefined;
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { cert, key };
}
