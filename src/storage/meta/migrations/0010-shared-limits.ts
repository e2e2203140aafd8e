/**
 * State every node of a scale-out registry must share (issue 11): pull-rate token buckets and
 * console sign-in failure counters. Rows are small and expire: a bucket idle long enough to be full
 * again, or a failure window that is over, is as good as no row (and is swept).
 *
 * ```
 *  rate_buckets       id (pk: "a:<principal arn>" | "n:<address>") · tokens (double) · at (epoch ms)
 *                     · granted (0/1: whether the last take got a token)
 *  sign_in_failures   key (pk: "<address>|<account>|<user>" | "<address>") · count · first (epoch ms)
 *                     · locked_until (epoch ms, 0 = not locked)
 * ```
 */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

export function sharedLimitsSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('rate_buckets')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('tokens', 'double precision', (c) => c.notNull())
        .addColumn('at', t.int64, (c) => c.notNull())
        .addColumn('granted', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rate_buckets_at').on('rate_buckets').column('at').execute();
      await db.schema.createTable('sign_in_failures')
        .addColumn('key', t.text, (c) => c.primaryKey())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('first', t.int64, (c) => c.notNull())
        .addColumn('locked_until', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sign_in_failures_first').on('sign_in_failures').column('first').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('sign_in_failures').execute();
      await db.schema.dropTable('rate_buckets').execute();
    },
  };
}
