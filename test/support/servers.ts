/**
 * The real PostgreSQL and S3 servers the scale-out suites run against. `.ci/run` starts both with
 * ../shared/tools/start-{postgres,s3}.sh and exports:
 *
 *   BERTH_E2E_POSTGRES_URL   postgres://user:pw@host:port/db of a role allowed to CREATE DATABASE
 *   BERTH_E2E_S3_ENDPOINT, BERTH_E2E_S3_ACCESS_KEY, BERTH_E2E_S3_SECRET_KEY, BERTH_E2E_S3_REGION
 *
 * Without them those suites are skipped with a printed reason (`npm test` stays green on a machine
 * without the servers). Every test gets a database / bucket of its own, so files run in parallel.
 */
import { randomBytes } from 'node:crypto';

export interface TestPostgres {
  /** URL of a fresh, empty database. */
  readonly url: string;
  /** Drops the database (after closing every pool on it). */
  drop(): Promise<void>;
}

export const POSTGRES_SKIP = process.env.BERTH_E2E_POSTGRES_URL
  ? undefined
  : 'BERTH_E2E_POSTGRES_URL is not set (.ci/run starts PostgreSQL with ../shared/tools/start-postgres.sh and sets it)';

export const S3_SKIP = process.env.BERTH_E2E_S3_ENDPOINT
  ? undefined
  : 'BERTH_E2E_S3_ENDPOINT is not set (.ci/run starts Ceph RGW with ../shared/tools/start-s3.sh and sets it)';

/** Prints why a server-backed suite is skipped, once per file, and returns the reason for `{ skip }`. */
export function skipReason(reason: string | undefined): string | false {
  if (reason === undefined) return false;
  console.log(`# skipped: ${reason}`);
  return reason;
}

/** Creates a fresh database on the test server. Throws when the server is not configured. */
export async function freshPostgres(): Promise<TestPostgres> {
  const admin = process.env.BERTH_E2E_POSTGRES_URL;
  if (!admin) throw new Error(POSTGRES_SKIP);
  const { default: pg } = await import('pg');
  const name = `berth_t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Connection settings of the test S3 server, plus a bucket name no other test uses. */
export function freshS3(): { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucket: string } {
  const endpoint = process.env.BERTH_E2E_S3_ENDPOINT;
  if (!endpoint) throw new Error(S3_SKIP);
  return {
    endpoint,
    region: process.env.BERTH_E2E_S3_REGION ?? 'us-east-1',
    accessKeyId: process.env.BERTH_E2E_S3_ACCESS_KEY ?? '',
    secretAccessKey: process.env.BERTH_E2E_S3_SECRET_KEY ?? '',
    bucket: `berth-t-${randomBytes(6).toString('hex')}`,
  };
}
