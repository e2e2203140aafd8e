import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Config } from '../config/schema.js';
import { describe, s3Settings } from './s3-blobs.js';

/** The outcome of one connectivity check of `berth verify-config`. */
export interface BackendCheck {
  name: string;
  ok: boolean;
  detail: string;
}

const CHECK_TIMEOUT_MS = 15_000;

/**
 * Connects to the external stores the configuration names (S3 for `storage.blob: s3`, PostgreSQL
 * for `storage.meta: postgres`) and proves they work: the bucket is reachable or creatable and a
 * probe object can be written, read back and deleted; the database answers `select 1`. Stores
 * that are not configured are not checked. Never throws: failures are reported per check.
 */
export async function verifyBackends(config: Config): Promise<BackendCheck[]> {
  const checks: BackendCheck[] = [];
  if (config.storage.blob === 's3') checks.push(await run('s3', () => checkS3(config)));
  if (config.storage.meta === 'postgres') checks.push(await run('postgres', () => checkPostgres(config)));
  return checks;
}

async function run(name: string, check: () => Promise<string>): Promise<BackendCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
  });
  try {
    return { name, ok: true, detail: await Promise.race([check(), timeout]) };
  } catch (e) {
    return { name, ok: false, detail: describe(e) };
  } finally {
    clearTimeout(timer);
  }
}

async function checkS3(config: Config): Promise<string> {
  const settings = s3Settings(config);
  const { makeS3Client, ensureBucket } = await import('../storage/blob/s3/s3-client.js');
  const { S3Io } = await import('../storage/blob/s3/s3-io.js');
  const client = makeS3Client(settings);
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    const bucket = await ensureBucket(client, settings.bucket, signal);
    const io = new S3Io(client, settings.bucket, settings.serverSideEncryption);
    const key = `${settings.prefix}verify-config-probe-${randomUUID()}`;
    const probe = Buffer.from(`berth verify-config ${new Date().toISOString()}`);
    try {
      await io.put(key, probe, signal);
    } catch (e) {
      // Ceph RGW and MinIO answer a bare 400 to SSE headers they have no key backend for.
      const sse = settings.serverSideEncryption;
      if (sse) throw new Error(`writing an object with s3.serverSideEncryption ${sse.mode} failed (${describe(e)}); does the store support it? (none: the bucket's default encryption)`, { cause: e });
      throw e;
    }
    try {
      const back = await io.stream(key, undefined, signal);
      const parts: Buffer[] = [];
      for await (const chunk of back ?? Readable.from([])) parts.push(chunk as Buffer);
      if (!Buffer.concat(parts).equals(probe)) throw new Error('the probe object read back differs from what was written');
    } finally {
      await io.delete(key, signal);
    }
    return `bucket ${settings.bucket} at ${settings.endpoint ?? `AWS S3 (${settings.region})`} ${bucket === 'created' ? 'created' : 'reachable'}; probe object written, read back and deleted`;
  } finally {
    client.destroy();
  }
}

/**
 * A plain client rather than leasePostgres: the lease migrates the schema, and a verification run
 * before a rollout must not upgrade the database under nodes still running the previous version.
 */
async function checkPostgres(config: Config): Promise<string> {
  const url = config.postgres.url;
  if (url === undefined) throw new Error('postgres.url is required when storage.meta is postgres');
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CHECK_TIMEOUT_MS, query_timeout: CHECK_TIMEOUT_MS });
  // A connection dropped after the check must not crash the command.
  client.on('error', () => {});
  try {
    await client.connect();
    const res = await client.query<{ one: number }>('select 1 as one');
    if (res.rows[0]?.one !== 1) throw new Error('select 1 did not answer 1');
    const version = await client.query<{ v: string }>('show server_version');
    const u = new URL(url);
    return `database ${u.pathname.slice(1)} at ${u.hostname}:${u.port || 5432} answers select 1 (PostgreSQL ${version.rows[0]?.v ?? '?'})`;
  } finally {
    await client.end().catch(() => {});
  }
}
