import type { OsvRecord, VulnDb } from '../../core/ports/vuln-db.js';
import { packageKey } from '../../core/scanning.js';

/**
 * A read-through cache of `affecting` lookups by (ecosystem, name), for one pass over many
 * inventories: images share most packages, so each record is fetched and parsed once per pass
 * instead of once per image. Lives only as long as the pass (the database may change after).
 */
export function memoizedVulnDb(db: VulnDb): VulnDb {
  const cache = new Map<string, OsvRecord[]>();
  return {
    ...db,
    info: (s) => db.info(s),
    changedSince: (v, s) => db.changedSince(v, s),
    reload: (s) => db.reload(s),
    close: () => db.close(),
    async affecting(ecosystem, names, signal) {
      const keys = names.map((n) => packageKey(ecosystem, n));
      const missing = [...new Set(keys.filter((k) => !cache.has(`${ecosystem}\u0000${k}`)))];
      if (missing.length > 0) {
        for (const k of missing) cache.set(`${ecosystem}\u0000${k}`, []);
        for (const r of await db.affecting(ecosystem, missing, signal)) {
          const hit = new Set<string>();
          for (const a of r.affected ?? []) {
            if (a.package?.ecosystem !== ecosystem) continue;
            const id = `${ecosystem}\u0000${packageKey(ecosystem, a.package.name)}`;
            const list = cache.get(id);
            if (list && !hit.has(id)) {
              list.push(r);
              hit.add(id);
            }
          }
        }
      }
      const out = new Set<OsvRecord>();
      for (const k of keys) for (const r of cache.get(`${ecosystem}\u0000${k}`) ?? []) out.add(r);
      return [...out];
    },
  };
}
