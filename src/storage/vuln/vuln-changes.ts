import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { OsvRecord, VulnDbChanges } from '../../core/ports/vuln-db.js';
import type { VulnDbVersion } from '../../core/scanning.js';

/**
 * Change tracking between imports of the vulnerability database, so a re-evaluation matches an
 * image only against what changed since it was last matched (issue 10's 1,000-images target).
 * Each import compares its records with the file it replaces and carries the history forward:
 *
 * ```
 *  imports   generation (pk) · id             every import of the chain, this one last
 *  changes   id (pk) · generation · removed   per record id ever seen in the chain: the import
 *            idx(generation)                  that last added/modified (removed=0) or deleted it
 *                                             (removed=1, a tombstone)
 * ```
 *
 * A record counts as modified when its stored JSON differs (the import stores each record as
 * `JSON.stringify` of the parsed file, so the same input gives the same text).
 */

/**
 * Fills `imports` and `changes` of the database being built (`db`, records already written)
 * against `previous`, the file it will replace (absent or without tracking: a new chain starts).
 * Returns this import's version.
 */
export function trackChanges(db: Database.Database, previous: string | undefined): VulnDbVersion {
  db.exec(`create table imports (generation integer primary key, id text not null);
    create table changes (id text primary key, generation integer not null, removed integer not null);`);
  const importId = randomUUID();
  let generation = 1;
  let attached = false;
  if (previous !== undefined) {
    db.prepare('attach database ? as prev').run(previous);
    attached = true;
    const tracked = db.prepare("select 1 from prev.sqlite_master where type = 'table' and name = 'imports'").get() !== undefined;
    if (tracked) {
      const last = db.prepare('select max(generation) as g from prev.imports').get() as { g: number | null };
      if (last.g !== null) generation = last.g + 1;
    }
    if (generation > 1) {
      db.exec('insert into imports (generation, id) select generation, id from prev.imports');
      // Unchanged records keep the generation that last changed them; new or different ones get this one.
      db.prepare(`insert into changes (id, generation, removed)
        select r.id, case when p.json = r.json and pc.removed = 0 then pc.generation else ? end, 0
        from records r left join prev.records p on p.id = r.id left join prev.changes pc on pc.id = r.id`).run(generation);
      // Records gone since the previous import become tombstones; older tombstones are kept.
      db.prepare(`insert into changes (id, generation, removed)
        select pc.id, case when pc.removed = 1 then pc.generation else ? end, 1
        from prev.changes pc where pc.id not in (select id from records)`).run(generation);
    }
  }
  if (attached) db.exec('detach database prev');
  if (generation === 1) db.prepare('insert into changes (id, generation, removed) select id, 1, 0 from records').run();
  db.prepare('insert into imports (generation, id) values (?, ?)').run(generation, importId);
  db.exec('create index changes_by_generation on changes (generation)');
  return { importId, generation };
}

/** This file's version, or `undefined` when it predates change tracking. */
export function versionOf(db: Database.Database): VulnDbVersion | undefined {
  const tracked = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'imports'").get() !== undefined;
  if (!tracked) return undefined;
  const r = db.prepare('select generation, id from imports order by generation desc limit 1').get() as { generation: number; id: string } | undefined;
  return r ? { importId: r.id, generation: r.generation } : undefined;
}

/** See {@link VulnDb.changedSince}: `undefined` unless `since` is an import of this file's chain. */
export function changesSince(db: Database.Database, since: VulnDbVersion): VulnDbChanges | undefined {
  if (!versionOf(db)) return undefined;
  const known = db.prepare('select 1 from imports where generation = ? and id = ?').get(since.generation, since.importId);
  if (!known) return undefined;
  const records = (db.prepare(`select r.json from changes c join records r on r.id = c.id
    where c.generation > ? and c.removed = 0`).all(since.generation) as { json: string }[]).map((r) => JSON.parse(r.json) as OsvRecord);
  const removed = (db.prepare('select id from changes where generation > ? and removed = 1').all(since.generation) as { id: string }[]).map((r) => r.id);
  return { records, removed };
}
