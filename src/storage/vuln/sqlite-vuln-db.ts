import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import Database from 'better-sqlite3';
import type { OsvRecord, VulnDb, VulnDbChanges, VulnDbInfo } from '../../core/ports/vuln-db.js';
import { packageKey, type VulnDbVersion } from '../../core/scanning.js';
import { changesSince, trackChanges, versionOf } from './vuln-changes.js';

/**
 * The vulnerability database as its own SQLite file beside the metadata (`<data>/vulndb.sqlite`),
 * not in meta.db: an import writes ~100 MB and must neither hold the metadata write lock nor be
 * seen half done. An import builds a new file and renames it over the old one; readers notice
 * the new inode on {@link SqliteVulnDb.reload} and reopen.
 *
 * ```
 *  info      key (pk) · value            source, imported_at (epoch ms), records
 *  records   id (pk) · json              one OSV record, as imported
 *  affected  ecosystem · name · id       idx(ecosystem, name): which records name a package
 *  imports, changes                      what changed since earlier imports (vuln-changes.ts)
 * ```
 */
export class SqliteVulnDb implements VulnDb {
  #db: Database.Database | undefined;
  #version: VulnDbVersion | undefined;
  #ino = -1;
  #mtime = -1;

  private constructor(private readonly path: string) {}

  /** Opens the database at `path`; a missing file is an empty database until an import appears. */
  static async open(path: string): Promise<SqliteVulnDb> {
    const db = new SqliteVulnDb(path);
    await db.reload(AbortSignal.timeout(10_000));
    return db;
  }

  async info(signal: AbortSignal): Promise<VulnDbInfo | undefined> {
    signal.throwIfAborted();
    const db = this.#db;
    if (!db) return undefined;
    const rows = db.prepare('select key, value from info').all() as { key: string; value: string }[];
    const m = new Map(rows.map((r) => [r.key, r.value]));
    return {
      source: m.get('source') ?? 'unknown', importedAt: new Date(Number(m.get('imported_at') ?? 0)), records: Number(m.get('records') ?? 0),
      ...(this.#version ? { version: this.#version } : {}),
    };
  }

  async changedSince(since: VulnDbVersion, signal: AbortSignal): Promise<VulnDbChanges | undefined> {
    signal.throwIfAborted();
    return this.#db ? changesSince(this.#db, since) : undefined;
  }

  async affecting(ecosystem: string, names: readonly string[], signal: AbortSignal): Promise<OsvRecord[]> {
    signal.throwIfAborted();
    const db = this.#db;
    if (!db || names.length === 0) return [];
    const keys = [...new Set(names.map((n) => packageKey(ecosystem, n)))];
    const out: OsvRecord[] = [];
    const seen = new Set<string>();
    // Chunks keep the statement under SQLite's bound-parameter limit.
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const rows = db.prepare(`select distinct r.id, r.json from affected a join records r on r.id = a.id
        where a.ecosystem = ? and a.name in (${chunk.map(() => '?').join(',')})`).all(ecosystem, ...chunk) as { id: string; json: string }[];
      for (const r of rows) {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        out.push(JSON.parse(r.json) as OsvRecord);
      }
    }
    return out;
  }

  async reload(signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    const st = await stat(this.path).catch(() => undefined);
    if (!st) {
      const had = this.#db !== undefined;
      this.#db?.close();
      this.#db = undefined;
      this.#version = undefined;
      this.#ino = -1;
      return had;
    }
    if (st.ino === this.#ino && st.mtimeMs === this.#mtime) return false;
    const next = new Database(this.path, { readonly: true, fileMustExist: true });
    this.#db?.close();
    this.#db = next;
    this.#version = versionOf(next);
    this.#ino = st.ino;
    this.#mtime = st.mtimeMs;
    return true;
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    this.#version = undefined;
  }
}

/**
 * `path` when it holds a readable SQLite database (the import being replaced), else `undefined`:
 * a damaged old file only costs the change history (a new chain starts), not the import.
 */
async function readableDb(path: string): Promise<string | undefined> {
  if (!(await stat(path).catch(() => undefined))) return undefined;
  try {
    const old = new Database(path, { readonly: true, fileMustExist: true });
    try {
      old.prepare('select count(*) from records').get();
      return path;
    } finally {
      old.close();
    }
  } catch {
    return undefined;
  }
}

/** Progress of an import: records written so far. */
export type ImportProgress = (records: number) => void;

/**
 * Writes `records` into a fresh database and atomically replaces the one at `path` with it.
 * Resolves with the record count. Later records with an id already written replace the earlier
 * one (OSV exports repeat ids across ecosystems' files). On failure the old database stays.
 */
export async function importVulnDb(path: string, records: AsyncIterable<OsvRecord>, source: string, progress?: ImportProgress): Promise<number> {
  const tmp = `${path}.import-${randomBytes(6).toString('hex')}`;
  // Nothing else sees the file until the rename, so it is built without a journal or fsyncs per
  // statement; the single fsync before the rename makes it durable.
  const db = new Database(tmp);
  let count = 0;
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(`create table info (key text primary key, value text not null);
      create table records (id text primary key, json text not null);
      create table affected (ecosystem text not null, name text not null, id text not null);`);
    const putRecord = db.prepare('insert into records (id, json) values (?, ?) on conflict(id) do update set json = excluded.json');
    const dropAffected = db.prepare('delete from affected where id = ?');
    const putAffected = db.prepare('insert into affected (ecosystem, name, id) values (?, ?, ?)');
    let batch: OsvRecord[] = [];
    const seen = new Set<string>();
    const flush = db.transaction((rows: OsvRecord[]) => {
      for (const r of rows) {
        if (seen.has(r.id)) dropAffected.run(r.id);
        seen.add(r.id);
        putRecord.run(r.id, JSON.stringify(r));
        const keys = new Set<string>();
        for (const a of r.affected ?? []) {
          if (!a.package) continue;
          const k = `${a.package.ecosystem}\u0000${packageKey(a.package.ecosystem, a.package.name)}`;
          if (keys.has(k)) continue;
          keys.add(k);
          putAffected.run(a.package.ecosystem, packageKey(a.package.ecosystem, a.package.name), r.id);
        }
      }
    });
    for await (const r of records) {
      batch.push(r);
      if (batch.length >= 2000) {
        flush(batch);
        count += batch.length;
        batch = [];
        progress?.(count);
      }
    }
    flush(batch);
    count += batch.length;
    progress?.(count);
    trackChanges(db, await readableDb(path));
    db.exec('create index affected_by_package on affected (ecosystem, name)');
    const info = db.prepare('insert into info (key, value) values (?, ?)');
    info.run('source', source);
    info.run('imported_at', String(Date.now()));
    info.run('records', String(seen.size));
    db.close();
    const fh = await open(tmp, 'r');
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    return seen.size;
  } catch (e) {
    if (db.open) db.close();
    await rm(tmp, { force: true });
    throw e;
  }
}
