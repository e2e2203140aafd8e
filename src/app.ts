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
import { LocalEventBus } from './core/events.js';
import type { BlobStore } from './core/ports/blob-store.js';
import type { IdentityStore } from './core/ports/identity-store.js';
import type { MetaStore } from './core/ports/meta-store.js';
import { repoKey } from './core/repo-key.js';
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
import { buildServer } from './http/server.js';
import { FsBlobStore } from './storage/blob/fs/fs-blob-store.js';
import { MemoryBlobStore } from './storage/blob/memory/memory-blob-store.js';
import { MemoryIdentityStore } from './storage/meta/memory/memory-identity-store.js';
import { MemoryMetaStore } from './storage/meta/memory/memory-meta-store.js';
import { openSqliteIdentityStore } from './storage/meta/sqlite/sqlite-identity-store.js';
import { openSqliteMetaStore } from './storage/meta/sqlite/sqlite-meta-store.js';
import { removeCredentialsFileOf, writeCredentialsFile } from './config/credentials-file.js';
import type { GcStore } from './core/ports/gc-store.js';
import type { LifecycleStore } from './core/ports/lifecycle-store.js';
import { periodic } from './core/periodic.js';
import { GarbageCollector, type GcOptions, type GcReport } from './core/services/gc.js';
import { register as registerLifecycle, type LifecycleFeature, type RepositoryRun } from './lifecycle/index.js';
import { MemoryLifecycleStore } from './storage/meta/memory/memory-lifecycle-store.js';
import { openSqliteGcStore } from './storage/meta/sqlite/sqlite-gc-store.js';
import { openSqliteLifecycleStore } from './storage/meta/sqlite/sqlite-lifecycle-store.js';

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
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes backends. */
  close(): Promise<void>;
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
}

/** The ONLY place that names implementations: config → backends → services → http. */
export async function openBackends(config: Config): Promise<{ meta: MetaStore; blobs: BlobStore; identity: IdentityStore; keys: KeyStore }> {
  const dataDir = resolve(config.dataDir);
  if (config.storage.meta === 'sqlite' || config.storage.blob === 'fs') await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const dbPath = join(dataDir, 'meta.db');
  // One after the other: both migrate the same file under its write lock.
  const meta = config.storage.meta === 'sqlite' ? await openSqliteMetaStore({ path: dbPath }) : new MemoryMetaStore();
  const identity = config.storage.meta === 'sqlite' ? await openSqliteIdentityStore({ path: dbPath }) : new MemoryIdentityStore();
  // The key store has no hand-written memory twin: SQLite's own :memory: mode serves that case.
  const keys = await openSqliteKeyStore({ path: config.storage.meta === 'sqlite' ? dbPath : ':memory:' });
  const blobs = config.storage.blob === 'fs' ? await FsBlobStore.open({ root: dataDir }) : new MemoryBlobStore();
  return { meta, blobs, identity, keys };
}

/**
 * The blob store every service sees: `raw` behind the encrypting wrapper (every blob encrypted
 * at rest; data keys wrapped by the service key or the repository's KMS key).
 */
export function encryptBlobs(raw: BlobStore, keyStore: KeyStore, keyring: Keyring, kms: { keys: KmsKeys; crypto: KmsCrypto }): EncryptedBlobStore {
  return new EncryptedBlobStore(raw, keyStore, new DataKeyWrapping(keyStore, keyring, kms), keyring);
}

/**
 * The backends as the services see them (blobs behind the encrypting wrapper), for offline
 * commands (`berth fsck`, `berth encrypt-existing`) that run beside a server on the same data.
 */
export async function openEncryptedBackends(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<{ meta: MetaStore; blobs: EncryptedBlobStore; close(): Promise<void> }> {
  const { meta, blobs: raw, identity, keys } = await openBackends(config);
  const keyring = new MasterKeyring((await loadMasterKey(resolve(config.dataDir), env)).key);
  const blobs = encryptBlobs(raw, keys, keyring, keyService(keys, keyring, config));
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
  if (config.storage.meta !== 'sqlite') return { lifecycleStore: new MemoryLifecycleStore(meta) };
  const path = join(resolve(config.dataDir), 'meta.db');
  return { lifecycleStore: await openSqliteLifecycleStore({ path }), gcStore: await openSqliteGcStore({ path }) };
}

/** GC options from the configuration. */
export function gcOptions(config: Config, extra: Partial<GcOptions> = {}): GcOptions {
  return { graceMs: config.gc.graceSeconds * 1000, uploadMaxAgeMs: config.gc.uploadMaxAgeHours * 3_600_000, ...extra };
}

/** One garbage collection over the data directory, for `berth gc`; safe while servers run on it. */
export async function runGc(config: Config, extra: Partial<GcOptions>, signal: AbortSignal): Promise<GcReport> {
  // Through the encrypting wrapper, as the servers' GC: deleting a blob also deletes its data-key wrappings.
  const { meta, blobs, close } = await openEncryptedBackends(config);
  const { lifecycleStore, gcStore } = await openLifecycleBackends(config, meta);
  try {
    if (!gcStore) throw new Error('garbage collection needs the sqlite metadata backend (storage.meta: sqlite)');
    return await new GarbageCollector(meta, blobs, gcStore, undefined).run(gcOptions(config, extra), signal);
  } finally {
    await gcStore?.close();
    await lifecycleStore.close();
    await close();
  }
}

/** One application of lifecycle policies, for `berth lifecycle run`; safe while servers run on the data directory. */
export async function runLifecycle(config: Config, opts: { repository?: string; accountId?: string; dryRun?: boolean }, signal: AbortSignal): Promise<RepositoryRun[]> {
  const { meta, blobs, identity, keys } = await openBackends(config);
  const { lifecycleStore, gcStore } = await openLifecycleBackends(config, meta);
  try {
    const events = new LocalEventBus();
    const repos = new RepositoryService(meta, events);
    const images = new EcrImageService(meta, new ManifestService(meta, repos, events), events);
    const feature = registerLifecycle({ meta, store: lifecycleStore, images, events, intervalMinutes: 0, log: { info: () => {}, error: () => {} } });
    return await feature.executor.run(opts, signal);
  } finally {
    await gcStore?.close();
    await lifecycleStore.close();
    await meta.close();
    await identity.close();
    await keys.close();
    await blobs.close();
  }
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
  await writeCredentialsFile(file, root, config.region);
  logger.info({ file, accessKeyId: root.accessKeyId }, `root credentials of account ${config.accountId} written to ${file}`);
}

/**
 * First-start work that must happen once before several workers open the data directory: the
 * master key and the default account's root key (and its credentials file).
 */
export async function bootstrap(config: Config, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<{ created: boolean }> {
  const root = await createAccount(config, config.accountId, env);
  if (config.storage.meta === 'sqlite') await announceRoot(config, root, logger);
  return { created: root.created };
}

/**
 * Adds an account (beside the default one) with a root access key, for `berth account create`.
 * Safe while a server runs on the same data directory. Resolves with the root key.
 */
export async function createAccount(config: Config, accountId: string, env: NodeJS.ProcessEnv = process.env): Promise<RootCredentials> {
  const { meta, blobs, identity, keys } = await openBackends(config);
  try {
    const keyring = new MasterKeyring((await loadMasterKey(resolve(config.dataDir), env)).key);
    const iam = new IamService(identity, keyring, new PolicySource(identity, meta));
    return await ensureRootCredentials(identity, iam, keyring, accountId, accountId === config.accountId ? env : {}, AbortSignal.timeout(30_000));
  } finally {
    await meta.close();
    await identity.close();
    await keys.close();
    await blobs.close();
  }
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? createLogger(config);
  logger.info({ config: redactConfig(config) }, 'starting berth');
  const { meta, blobs: rawBlobs, identity, keys: keyStore } = await openBackends(config);
  const { lifecycleStore, gcStore } = await openLifecycleBackends(config, meta);
  const persistent = config.storage.meta === 'sqlite';
  const masterKey = persistent ? (await loadMasterKey(resolve(config.dataDir), env)).key : randomBytes(32);
  const keyring = new MasterKeyring(masterKey);
  const kms = keyService(keyStore, keyring, config);
  const blobs = opts.plaintextBlobs ? rawBlobs : encryptBlobs(rawBlobs, keyStore, keyring, kms);
  const events = new LocalEventBus((err) => logger.error({ err }, 'event listener failed'));
  const policies = new PolicySource(identity, meta);
  const iam = new IamService(identity, keyring, policies);
  const tokens = new RegistryTokens(keyring);
  const urls = new UrlSigner(keyring);

  const root = await ensureRootCredentials(identity, iam, keyring, config.accountId, env, AbortSignal.timeout(30_000));
  if (persistent) await announceRoot(config, root, logger);

  const sessions = new SessionIssuer(keyring);
  const kmsAuthorizer = new KmsAuthorizer(policies, (account, ref, signal) => kms.keys.resolve(account, ref, signal));
  const access = opts.openRegistry ? new AllowAllAccess() : new IamAccessControl({
    identity, meta, keyring, tokens, policies, sessions, region: config.region, defaultAccountId: config.accountId,
    keyAccess: (request, encryption, signal) => kmsAuthorizer.authorizeRepositoryUse(request, encryption, signal),
  });
  const repos = new RepositoryService(meta, events);
  const hosts = new AccountHosts({ ...config.accountHosts, region: config.region, defaultAccountId: config.accountId });
  const blobService = new BlobService(meta, blobs, repos);
  const uploads = new UploadService(meta, blobs, repos, events, { maxBlobBytes: config.limits.maxBlobBytes });
  const manifests = new ManifestService(meta, repos, events);
  const ecrRepos = new EcrRepositoryService(meta, events, (text) => {
    // ECR accepts repeated statement ids in repository and registry policies (IAM does not).
    const r = parsePolicy(text, 'resource', { uniqueSids: false });
    return 'errors' in r ? [...r.errors] : [];
  });

  const ecrImages = new EcrImageService(meta, manifests, events);
  const lifecycle = registerLifecycle({ meta, store: lifecycleStore, images: ecrImages, events, intervalMinutes: config.lifecycle.intervalMinutes, log: logger });
  manifests.pullGate = lifecycle.api.pulls;
  const gc = gcStore ? new GarbageCollector(meta, blobs, gcStore, events) : undefined;
  const gcSchedule = gc ? periodic(config.gc.intervalMinutes * 60_000, async (signal) => {
    const r = await gc.run(gcOptions(config), signal);
    logger.info({ gc: r }, `garbage collection freed ${r.blobsDeleted} blobs (${r.bytesReclaimed} bytes), swept ${r.uploadsSwept} uploads`);
  }, (err) => logger.error({ err }, 'garbage collection failed')) : undefined;

  let draining = false;
  const metrics = new Metrics();
  const server = await buildServer({
    logger, metrics, events, trustProxy: config.trustProxy, timeouts: config.timeouts, tls: await readTls(config),
    oci: { repos, blobs: blobService, uploads, manifests, access, limits: { maxPageSize: config.limits.maxPageSize }, presignedUrls: urls, accounts: hosts },
    aws: access instanceof IamAccessControl ? {
      access, region: config.region, bodyLimit: 64 * 1024 * 1024, publicUrl: config.publicUrl,
      json: {
        AmazonEC2ContainerRegistry_V20150921: {
          service: 'ecr', signingName: 'ecr',
          operations: ecrOperations({
            repos: ecrRepos, images: ecrImages, lifecycle: lifecycle.api, layers: new EcrLayerService(meta, uploads),
            blobs: blobService, meta, tokens, urls, hosts, onPolicyChange: () => policies.invalidate(), repositoryKeys: new RepositoryKeys(kms.keys),
          }),
        },
        TrentService: {
          service: 'kms', signingName: 'kms',
          operations: kmsOperations({ ...kms, authorizer: kmsAuthorizer }),
        },
      },
      query: {
        iam: { service: 'iam', operations: iamOperations({ iam }) },
        sts: { service: 'sts', operations: stsOperations({ iam, sessions }) },
      },
    } : undefined,
    ops: {
      draining: () => draining,
      ready: async () => {
        const probe = AbortSignal.timeout(2000);
        await meta.getRepository(repoKey(config.accountId, 'readiness-probe'), probe);
        await blobs.uploadSize('readiness-probe', probe);
      },
    },
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      const grace = config.shutdownGraceSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((done) => {
        timer = setTimeout(() => {
          logger.warn('shutdown grace period over; closing remaining connections');
          server.server.closeAllConnections();
          done();
        }, grace);
      });
      await Promise.race([server.close(), forced]);
      clearTimeout(timer);
      await lifecycle.stop();
      await gcSchedule?.stop();
      await gcStore?.close();
      await lifecycleStore.close();
      await meta.close();
      await identity.close();
      await keyStore.close();
      await blobs.close();
      logger.info('berth stopped');
      logger.flush();
    })();
    return closing;
  };
  const reloadTls = async (): Promise<void> => {
    const tls = await readTls(config);
    if (tls && 'setSecureContext' in server.server) (server.server as unknown as TlsServer).setSecureContext(tls);
  };
  return { server, meta, blobs, identity, logger, rootCredentials: root, lifecycle, ...(gc ? { gc } : {}), close, reloadTls };
}

/** The certificate and key files named by `tls`, read now (start and SIGHUP). */
async function readTls(config: Config): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  const { certFile, keyFile } = config.tls;
  if (!certFile || !keyFile) return undefined;
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { cert, key };
}
