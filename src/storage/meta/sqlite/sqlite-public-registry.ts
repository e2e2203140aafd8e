import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { fail } from '../../../core/errors.js';
import type { CatalogData, PublicRegistryStore, PublicRepositoryFilter, PublicRepositoryRecord } from '../../../core/ports/public-registry.js';
import type { LogoInput } from '../../../core/ports/public-registry.js';
import type { PublicSchema } from '../migrations/0009-public.js';
import { openSqlite } from './open.js';
import { sqlText, type Statements } from './statements.js';

/** Opens the public-registry store on the metadata file at `path` (`':memory:'` for tests), migrating it first. */
export async function openSqlitePublicRegistry(opts: { path: string }): Promise<SqlitePublicRegistry> {
  const { db, sql } = await openSqlite<PublicSchema>(opts.path);
  return new SqlitePublicRegistry(db, sql);
}

type Row = PublicSchema['public_repositories'];
export const COLUMNS = ['account_id', 'name', 'short_name', 'catalog', 'logo_type', 'logo_etag', 'created_at'] as const;

/** Badge lists are stored as `|a|b|` so an exact badge is the substring `|a|`. */
export const badges = (list: string[]): string => `|${list.map((x) => x.replace(/\|/g, '')).join('|')}|`;

/** {@link PublicRegistryStore} on SQLite; each method is one synchronous statement or transaction. */
export class SqlitePublicRegistry implements PublicRegistryStore {
  constructor(private readonly db: Kysely<PublicSchema>, private readonly sql: Statements, private readonly owned = true) {}

  async getAlias(accountId: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return this.sql.get(sqlText<{ alias: string }>('select alias from public_registries where account_id = ?', accountId))?.alias;
  }

  async accountOfAlias(alias: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return this.sql.get(sqlText<{ account_id: string }>('select account_id from public_registries where alias = ?', alias))?.account_id;
  }

  async setAlias(accountId: string, alias: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.sql.write(() => {
      const holder = this.sql.get(sqlText<{ account_id: string }>('select account_id from public_registries where alias = ?', alias));
      if (holder && holder.account_id !== accountId) throw fail('EntityAlreadyExists', `the registry alias '${alias}' belongs to another account`);
      if (holder) return;
      const changed = this.sql.run(sqlText('update public_registries set alias = ? where account_id = ?', alias, accountId));
      if (!changed) this.sql.run(sqlText("insert into public_registries (account_id, alias, display_name) values (?, ?, '')", accountId, alias));
    });
  }

  async getDisplayName(accountId: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    return this.sql.get(this.db.selectFrom('public_registries').select('display_name').where('account_id', '=', accountId))?.display_name ?? '';
  }

  async setDisplayName(accountId: string, displayName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const changed = this.sql.run(this.db.updateTable('public_registries').set({ display_name: displayName }).where('account_id', '=', accountId));
    if (!changed) throw fail('NoSuchEntity', `account ${accountId} has no public registry alias`);
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
    this.sql.write(() => {
      const exists = this.sql.get(this.db.selectFrom('public_repositories').select('name').where('name', '=', record.name));
      if (exists) {
        const { created_at: _keep, ...rest } = values;
        this.sql.run(this.db.updateTable('public_repositories').set({ ...rest, ...logoCols }).where('name', '=', record.name));
      } else {
        this.sql.run(this.db.insertInto('public_repositories').values({ logo: null, logo_type: null, logo_etag: null, ...values, ...logoCols }));
      }
    });
  }

  async getRepository(name: string, signal: AbortSignal): Promise<PublicRepositoryRecord | undefined> {
    signal.throwIfAborted();
    const row = this.sql.get(this.db.selectFrom('public_repositories').select([...COLUMNS]).where('name', '=', name));
    return row && toRecord(row);
  }

  async getLogo(name: string, signal: AbortSignal): Promise<{ bytes: Buffer; contentType: string } | undefined> {
    signal.throwIfAborted();
    const row = this.sql.get(this.db.selectFrom('public_repositories').select(['logo', 'logo_type']).where('name', '=', name));
    return row?.logo && row.logo_type ? { bytes: Buffer.from(row.logo), contentType: row.logo_type } : undefined;
  }

  async deleteRepository(name: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.run(this.db.deleteFrom('public_repositories').where('name', '=', name)) > 0;
  }

  async listRepositories(filter: PublicRepositoryFilter, signal: AbortSignal): Promise<PublicRepositoryRecord[]> {
    signal.throwIfAborted();
    let q = this.#filtered(filter).select([...COLUMNS]).orderBy('name').limit(filter.limit);
    if (filter.last !== undefined) q = q.where('name', '>', filter.last);
    return this.sql.all(q).map(toRecord);
  }

  async countRepositories(filter: Omit<PublicRepositoryFilter, 'last' | 'limit'>, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const row = this.sql.get(this.#filtered(filter).select(({ fn }) => fn.countAll<number>().as('n')));
    return Number(row?.n ?? 0);
  }

  #filtered(filter: Omit<PublicRepositoryFilter, 'last' | 'limit'>) {
    let q = this.db.selectFrom('public_repositories');
    if (filter.accountId !== undefined) q = q.where('account_id', '=', filter.accountId);
    // instr(), not LIKE: the words are plain substrings, so nothing in them acts as a wildcard.
    for (const word of (filter.query ?? '').toLowerCase().split(/\s+/).filter(Boolean).slice(0, 8)) {
      q = q.where(sql<boolean>`instr(search_text, ${word}) > 0`);
    }
    if (filter.architecture) q = q.where(sql<boolean>`instr(architectures, ${`|${filter.architecture}|`}) > 0`);
    if (filter.operatingSystem) q = q.where(sql<boolean>`instr(operating_systems, ${`|${filter.operatingSystem}|`}) > 0`);
    return q;
  }

  async close(): Promise<void> {
    if (this.owned) this.sql.close();
  }
}

export function toRecord(row: Pick<Row, (typeof COLUMNS)[number]>): PublicRepositoryRecord {
  return {
    accountId: row.account_id, name: row.name, shortName: row.short_name, catalog: JSON.parse(row.catalog) as CatalogData,
    ...(row.logo_type && row.logo_etag ? { logo: { contentType: row.logo_type, etag: row.logo_etag } } : {}),
    createdAt: new Date(row.created_at),
  };
}
