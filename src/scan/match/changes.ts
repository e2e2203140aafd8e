import type { OsvRecord, VulnDb, VulnDbChanges } from '../../core/ports/vuln-db.js';
import { packageKey } from '../../core/scanning.js';

/** The records changed since some import, as a database of their own, and every id they touch. */
export interface ChangeSet {
  /** Answers `affecting` from the changed records only (withdrawn ones included, as in the full db). */
  db: VulnDb;
  /** Ids whose findings may differ: changed and removed records. */
  ids: Set<string>;
}

/**
 * Matching an inventory against {@link ChangeSet.db} yields exactly the findings the changed
 * records cause in a full match, because each finding comes from one record alone.
 */
export function changesDb(changes: VulnDbChanges): ChangeSet {
  const byPackage = new Map<string, OsvRecord[]>();
  for (const r of changes.records) {
    const keys = new Set<string>();
    for (const a of r.affected ?? []) {
      if (!a.package) continue;
      keys.add(`${a.package.ecosystem}\u0000${packageKey(a.package.ecosystem, a.package.name)}`);
    }
    for (const k of keys) {
      const list = byPackage.get(k);
      if (list) list.push(r);
      else byPackage.set(k, [r]);
    }
  }
  const ids = new Set([...changes.records.map((r) => r.id), ...changes.removed]);
  const db: VulnDb = {
    info: async () => undefined,
    changedSince: async () => undefined,
    reload: async () => false,
    close: async () => {},
    async affecting(ecosystem, names, signal) {
      signal.throwIfAborted();
      const out = new Set<OsvRecord>();
      for (const n of names) for (const r of byPackage.get(`${ecosystem}\u0000${packageKey(ecosystem, n)}`) ?? []) out.add(r);
      return [...out];
    },
  };
  return { db, ids };
}
