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
  /** ECR Public: the default account's registry alias and the pull rate limits of public repositories. */
  public: z.object({
    /** Alias of the default account's public registry (`<host>/<alias>/<name>`); default: derived from the account id. */
    alias: z.string().regex(/^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'must match [a-z][a-z0-9]+([._-][a-z0-9]+)*').min(2).max(50).optional(),
    /** Anonymous pulls (manifest GETs) per second per client address, and the burst allowed. */
    anonymousPullsPerSecond: z.number().positive().default(1),
    anonymousPullBurst: z.number().int().min(1).default(20),
    /** The same for logged-in callers, per principal. */
    authenticatedPullsPerSecond: z.number().positive().default(10),
    authenticatedPullBurst: z.number().int().min(1).default(200),
  }).strict().default({ anonymousPullsPerSecond: 1, anonymousPullBurst: 20, authenticatedPullsPerSecond: 10, authenticatedPullBurst: 200 }),
  /** Trust X-Forwarded-* from a reverse proxy in front. */
  trustProxy: z.boolean().default(false),
}).strict();

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;
