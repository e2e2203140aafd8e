import type { OsvRecord, VulnDb, VulnDbChanges } from '../../core/ports/vuln-db.js';
import { packageKey, type InstalledPackage, type Inventory } from '../../core/scanning.js';
import { queriesFor } from './ecosystems.js';

/** The records changed since some import, as a database of their own, and every id they touch. */
export interface ChangeSet {
  /** Answers `affecting` from the changed records only (withdrawn ones included, as in the full db). */
  db: VulnDb;
  /** Ids whose findings may differ: changed and removed records. */
  ids: Set<string>;
  /**
   * The packages of `inventory` a changed record names under one of their lookups (queriesFor),
   * in inventory order. Matching only these against {@link db} gives the same findings as matching
   * them all: a package no lookup of which names a changed record has no record to be matched with.
   */
  named(inventory: Inventory): InstalledPackage[];
  /**
   * Whether a changed record may name an image whose packages are looked up under `names`
   * (`lookupNames`). `false` means {@link named} of its inventory is empty: it need not be read.
   */
  mayName(names: readonly string[]): boolean;
}

const keyOf = (ecosystem: string, name: string): string => `${ecosystem}\u0000${packageKey(ecosystem, name)}`;

/**
 * Matching an inventory against {@link ChangeSet.db} yields exactly the findings the changed
 * records cause in a full match, because each finding comes from one record alone.
 */
export function changesDb(changes: VulnDbChanges): ChangeSet {
  const byPackage = new Map<string, OsvRecord[]>();
  /** Every name a changed record's package has, and as packageKey gives it in its ecosystem. */
  const names = new Set<string>();
  /** The PyPI-normalised names of the changed records' PyPI packages. */
  const pypi = new Set<string>();
  for (const r of changes.records) {
    const keys = new Set<string>();
    for (const a of r.affected ?? []) {
      if (!a.package) continue;
      keys.add(keyOf(a.package.ecosystem, a.package.name));
      names.add(a.package.name);
      if (a.package.ecosystem === 'PyPI') pypi.add(packageKey('PyPI', a.package.name));
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
      for (const n of names) for (const r of byPackage.get(keyOf(ecosystem, n)) ?? []) out.add(r);
      return [...out];
    },
  };
  // A lookup of name `n` can only hit byPackage if `n` is among `names` (packageKey is the identity
  // outside PyPI) or its PyPI form among `pypi`; that cheap test skips building most packages' lookups.
  const mayName = (n: string): boolean => names.has(n) || (pypi.size > 0 && pypi.has(packageKey('PyPI', n)));
  const named = (inventory: Inventory): InstalledPackage[] => inventory.packages.filter((p) =>
    (mayName(p.name) || (p.source !== undefined && mayName(p.source.name)))
    && queriesFor(p, inventory.os).some((q) => byPackage.has(keyOf(q.ecosystem, q.name))));
  return { db, ids, named, mayName: (list) => list.some(mayName) };
}
