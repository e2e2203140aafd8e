import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { fail } from '../../../core/errors.js';
import type { LogoInput, PublicRegistryStore, PublicRepositoryFilter, PublicRepositoryRecord } from '../../../core/ports/public-registry.js';
import type { PublicSchema } from '../migrations/0009-public.js';
import { badges, COLUMNS, toRecord } from '../sqlite/sqlite-public-registry.js';
import { leasePostgres, type PostgresHandle } from './open.js';
import { isUniqueViolation, serializable } from './pg-tx.js';

/** Opens the public-registry store on the PostgreSQL database at `url` (a lease of the process's one pool). */
export async function openPostgresPublicRegistry(opts: { url: string; poolSize: number }): Promise<PgPublicRegistry> {
  return new PgPublicRegistry(await leasePostgres(opts));
}

const aliasTaken = (alias: string) => fail('EntityAlreadyExists', `the registry alias '${alias}' belongs to another account`);

/**
 * {@link PublicRegistryStore} on PostgreSQL, stored and filtered as in the SQLite store (search
 * words and badges are plain substrings: `strpos`, not LIKE, so nothing in them is a wildcard).
 */
export class PgPublicRegistry implements PublicRegistryStore {
  readonly #db: Kysely<PublicSchema>;

  /** Use {@link openPostgresPublicRegistry}; `handle` is released by {@link close}. */
  constructor(private readonly handle: PostgresHandle) {
    this.#db = handle.db as unknown as Kysely<PublicSchema>;
  }

  async getAlias(accountId: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return (await this.#db.selectFrom('public_registries').select('alias').where('account_id', '=', accountId).executeTakeFirst())?.alias;
  }

  async accountOfAlias(alias: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return (await this.#db.selectFrom('public_registries').select('account_id').where('alias', '=', alias).executeTakeFirst())?.account_id;
  }

  async setAlias(accountId: string, alias: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    try {
      await serializable(this.#db, async (trx) => {
        const holder = await trx.selectFrom('public_registries').select('account_id').where('alias', '=', alias).executeTakeFirst();
        if (holder && holder.account_id !== accountId) throw aliasTaken(alias);
        if (holder) return;
        await trx.insertInto('public_registries').values({ account_id: accountId, alias, display_name: '' })
          .onConflict((oc) => oc.column('account_id').doUpdateSet({ alias })).execute();
      });
    } catch (e) {
      // The alias column is unique: another node claiming the same alias at once loses here.
      throw isUniqueViolation(e) ? aliasTaken(alias) : e;
    }
  }

  async getDisplayName(accountId: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    return (await this.#db.selectFrom('public_registries').select('display_name').where('account_id', '=', accountId).executeTakeFirst())?.display_name ?? '';
  }

  async setDisplayName(accountId: string, displayName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const r = await this.#db.updateTable('public_registries').set({ display_name: displayName }).where('account_id', '=', accountId).executeTakeFirst();
    if (r.numUpdatedRows === 0n) throw fail('NoSuchEntity', `account ${accountId} has no public registry alias`);
  }

  async putRepository(record: Omit<PublicRepositoryRecord, 'logo'>, logo: LogoInput, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const c = record.catalog;
    const values = {
      account_id: record.accountId, name: record.name, short_name: record.shortName, catalog: JSON.stringify(c),
      search_text: `${record.shortName}\n${c.description}`.toLowerCase(),
      architectures: badges(c.architectures), operating_systems: badges(c.operatingSystems), created_at: record.createdAt.getTime(),
    };
    const logoCols = logo === undefined ? {} : logo === null
      ? { logo: null, logo_type: null, logo_etag: null }
      : { logo: logo.bytes, logo_type: logo.contentType, logo_etag: createHash('sha256').update(logo.bytes).digest('hex').slice(0, 16) };
    const { created_at: _keep, ...rest } = values;
    // One upsert: the creation time (and the logo, unless given) of an existing record is kept.
    await this.#db.insertInto('public_repositories').values({ logo: null, logo_type: null, logo_etag: null, ...values, ...logoCols })
      .onConflict((oc) => oc.column('name').doUpdateSet({ ...rest, ...logoCols })).execute();
  }

  async getRepository(name: string, signal: AbortSignal): Promise<PublicRepositoryRecord | undefined> {
    signal.throwIfAborted();
    const row = await this.#db.selectFrom('public_repositories').select([...COLUMNS]).where('name', '=', name).executeTakeFirst();
    return row && toRecord(row);
  }

  async getLogo(name: string, signal: AbortSignal): Promise<{ bytes: Buffer; contentType: string } | undefined> {
    signal.throwIfAborted();
    const row = await this.#db.selectFrom('public_repositories').select(['logo', 'logo_type']).where('name', '=', name).executeTakeFirst();
    return row?.logo && row.logo_type ? { bytes: Buffer.from(row.logo), contentType: row.logo_type } : undefined;
  }

  async deleteRepository(name: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return (await this.#db.deleteFrom('public_repositories').where('name', '=', name).executeTakeFirst()).numDeletedRows > 0n;
  }

  async listRepositories(filter: PublicRepositoryFilter, signal: AbortSignal): Promise<PublicRepositoryRecord[]> {
    signal.throwIfAborted();
    let q = this.#filtered(filter).select([...COLUMNS]).orderBy('name').limit(filter.limit);
    if (filter.last !== undefined) q = q.where('name', '>', filter.last);
    return (await q.execute()).map(toRecord);
  }

  async countRepositories(filter: Omit<PublicRepositoryFilter, 'last' | 'limit'>, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const row = await this.#filtered(filter).select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  #filtered(filter: Omit<PublicRepositoryFilter, 'last' | 'limit'>) {
    let q = this.#db.selectFrom('public_repositories');
    if (filter.accountId !== undefined) q = q.where('account_id', '=', filter.accountId);
    for (const word of (filter.query ?? '').toLowerCase().split(/\s+/).filter(Boolean).slice(0, 8)) {
      q = q.where(sql<boolean>`strpos(search_text, ${word}) > 0`);
    }
    if (filter.architecture) q = q.where(sql<boolean>`strpos(architectures, ${`|${filter.architecture}|`}) > 0`);
    if (filter.operatingSystem) q = q.where(sql<boolean>`strpos(operating_systems, ${`|${filter.operatingSystem}|`}) > 0`);
    return q;
  }

  /** Releases this store's lease on the pool. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
