import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { AllowAllAccess } from './auth/allow-all.js';
import type { Config } from './config/schema.js';
import { redactConfig } from './config/redact.js';
import { LocalEventBus } from './core/events.js';
import type { BlobStore } from './core/ports/blob-store.js';
import type { MetaStore } from './core/ports/meta-store.js';
import { BlobService } from './core/services/blobs.js';
import { ManifestService } from './core/services/manifests.js';
import { RepositoryService } from './core/services/repositories.js';
import { UploadService } from './core/services/uploads.js';
import { Metrics } from './http/metrics.js';
import { buildServer } from './http/server.js';
import { FsBlobStore } from './storage/blob/fs/fs-blob-store.js';
import { MemoryBlobStore } from './storage/blob/memory/memory-blob-store.js';
import { MemoryMetaStore } from './storage/meta/memory/memory-meta-store.js';
import { openSqliteMetaStore } from './storage/meta/sqlite/sqlite-meta-store.js';

/** A running composition: the server plus what must be closed after it. */
export interface App {
  server: FastifyInstance;
  meta: MetaStore;
  blobs: BlobStore;
  logger: Logger;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes backends. */
  close(): Promise<void>;
}

/** The ONLY place that names implementations: config → backends → services → http. */
export async function openBackends(config: Config): Promise<{ meta: MetaStore; blobs: BlobStore }> {
  const dataDir = resolve(config.dataDir);
  if (config.storage.meta === 'sqlite' || config.storage.blob === 'fs') await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const meta = config.storage.meta === 'sqlite'
    ? await openSqliteMetaStore({ path: join(dataDir, 'meta.db') })
    : new MemoryMetaStore();
  const blobs = config.storage.blob === 'fs' ? await FsBlobStore.open({ root: dataDir }) : new MemoryBlobStore();
  return { meta, blobs };
}

export async function createApp(config: Config, opts: { logger?: Logger } = {}): Promise<App> {
  // Buffered, asynchronous stdout: synchronous writes cost a fifth of the manifest hot path.
  // The buffer is flushed on close; a kill -9 may lose its last few lines, never data.
  const logger = opts.logger ?? pino({
    level: config.log.level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.secretAccessKey', '*.password'], censor: '[redacted]' },
  }, pino.destination({ dest: 1, sync: false, minLength: 8192 }));
  logger.info({ config: redactConfig(config) }, 'starting berth');
  const { meta, blobs } = await openBackends(config);
  const events = new LocalEventBus((err) => logger.error({ err }, 'event listener failed'));
  const repos = new RepositoryService(meta, events);
  const access = new AllowAllAccess();
  const services = {
    repos,
    blobs: new BlobService(meta, blobs, repos),
    uploads: new UploadService(meta, blobs, repos, events, { maxBlobBytes: config.limits.maxBlobBytes }),
    manifests: new ManifestService(meta, repos, events),
  };
  let draining = false;
  const metrics = new Metrics();
  const server = await buildServer({
    logger, metrics, events, trustProxy: config.trustProxy,
    oci: { ...services, access, limits: { maxPageSize: config.limits.maxPageSize } },
    ops: {
      draining: () => draining,
      ready: async () => {
        const probe = AbortSignal.timeout(2000);
        await meta.getRepository('readiness-probe', probe);
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
      await meta.close();
      await blobs.close();
      logger.info('berth stopped');
      logger.flush();
    })();
    return closing;
  };
  return { server, meta, blobs, logger, close };
}
