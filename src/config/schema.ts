import { z } from 'zod';

const listen = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, { message: 'must be HOST:PORT', abort: true })
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

/** The whole configuration. Every field has a default, so an empty file is valid. */
export const configSchema = z.object({
  /** Address the one listener binds, HOST:PORT. */
  listen: listen.default('127.0.0.1:5000'),
  /** The default account (ECR registry id) that owns repositories and the root credentials. */
  accountId: z.string().regex(/^\d{12}$/, 'must be 12 digits').default('000000000000'),
  /** The region berth answers as (SigV4 credential scope, ARNs). */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1').default('us-east-1'),
  /** Where the embedded backends keep their files. */
  dataDir: z.string().min(1).default('./data'),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).strict().default({ level: 'info' }),
  storage: z.object({
    meta: z.enum(['sqlite', 'memory']).default('sqlite'),
    blob: z.enum(['fs', 'memory']).default('fs'),
  }).strict().default({ meta: 'sqlite', blob: 'fs' }),
  limits: z.object({
    /** Largest blob one upload may carry. */
    maxBlobBytes: z.number().int().positive().default(50 * 1024 ** 3),
    /** Largest page a list endpoint returns (`n` is clamped to it). */
    maxPageSize: z.number().int().min(1).max(100_000).default(1000),
  }).strict().default({ maxBlobBytes: 50 * 1024 ** 3, maxPageSize: 1000 }),
  /**
   * Processes serving the listener (node:cluster). Each is a full node of the scale-out design on
   * the shared metadata and blob stores; more than one uses more cores.
   */
  workers: z.number().int().min(1).max(64).default(1),
  /** Seconds in-flight requests (uploads) get to finish on SIGTERM before connections are cut. */
  shutdownGraceSeconds: z.number().int().min(0).max(3600).default(30),
  /**
   * Seal the built-in key service's key material with a key in an external AWS KMS instead of the
   * master key (credentials from the AWS SDK's default chain).
   */
  kms: z.object({
    externalKeyArn: z.string().min(1).optional(),
    externalRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1').optional(),
    /** Endpoint of a KMS-compatible service (for tests: another berth). */
    externalEndpoint: z.string().url().optional(),
  }).strict().default({}),
  /** Trust X-Forwarded-* from a reverse proxy in front. */
  trustProxy: z.boolean().default(false),
}).strict();

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;
