import type { OsvAffected, OsvRecord, VulnDb } from '../../core/ports/vuln-db.js';
import { compareFindings, packageKey, type Finding, type InstalledPackage, type Inventory } from '../../core/scanning.js';
import { comparatorFor } from '../versions/index.js';
import { queriesFor, type Query } from './ecosystems.js';
import { evaluateAffected } from './ranges.js';
import { rateRecord } from './severity.js';

/**
 * Ratings by record and affected entry. A pass over many inventories sees the same record objects
 * (memoizedVulnDb), and scoring CVSS vectors per finding was a quarter of the re-evaluation time.
 */
const ratings = new WeakMap<OsvRecord, Map<number, ReturnType<typeof rateRecord>>>();
function rate(record: OsvRecord, index: number, a: OsvAffected): ReturnType<typeof rateRecord> {
  let byAffected = ratings.get(record);
  if (!byAffected) ratings.set(record, (byAffected = new Map()));
  let r = byAffected.get(index);
  if (!r) byAffected.set(index, (r = rateRecord(record, a.severity, a.ecosystem_specific ?? a.database_specific)));
  return r;
}

/**
 * Matches an inventory against the database: one batched lookup per ecosystem, then each
 * record's `affected` entries for that package are evaluated in the ecosystem's version order.
 * One finding per (vulnerability, package, path); withdrawn records are ignored. Findings are
 * ordered by severity, then id, then package, so pages are stable.
 */
export async function matchInventory(inventory: Inventory, db: VulnDb, signal: AbortSignal): Promise<Finding[]> {
  const byEcosystem = new Map<string, { query: Query; pkg: InstalledPackage }[]>();
  for (const pkg of inventory.packages) {
    for (const query of queriesFor(pkg, inventory.os)) {
      let list = byEcosystem.get(query.ecosystem);
      if (!list) byEcosystem.set(query.ecosystem, (list = []));
      list.push({ query, pkg });
    }
  }
  const findings = new Map<string, Finding>();
  for (const [ecosystem, items] of byEcosystem) {
    const records = await db.affecting(ecosystem, items.map((i) => i.query.name), signal);
    if (records.length === 0) continue;
    const byName = new Map<string, OsvRecord[]>();
    for (const r of records) {
      if (r.withdrawn) continue;
      for (const a of r.affected ?? []) {
        if (a.package?.ecosystem !== ecosystem) continue;
        const k = packageKey(ecosystem, a.package.name);
        const list = byName.get(k) ?? [];
        if (!list.includes(r)) list.push(r);
        byName.set(k, list);
      }
    }
    const cmp = comparatorFor(ecosystem);
    for (const { query, pkg } of items) {
      const key = packageKey(ecosystem, query.name);
      for (const record of byName.get(key) ?? []) {
        const id = `${record.id}\u0000${pkg.type}\u0000${pkg.name}\u0000${pkg.path}`;
        if (findings.has(id)) continue;
        const affected = record.affected ?? [];
        for (let i = 0; i < affected.length; i++) {
          const a = affected[i]!;
          if (a.package?.ecosystem !== ecosystem || packageKey(ecosystem, a.package.name) !== key) continue;
          const r = evaluateAffected(a, query.version, cmp);
          if (!r.affected) continue;
          const rating = rate(record, i, a);
          findings.set(id, {
            vulnerabilityId: record.id,
            aliases: [...(record.aliases ?? []), ...(record.upstream ?? [])],
            summary: record.summary ?? '',
            description: record.details ?? record.summary ?? '',
            severity: rating.severity,
            ...(rating.cvss ? { cvss: rating.cvss } : {}),
            package: pkg,
            ...(r.fixed !== undefined ? { fixedInVersion: r.fixed } : {}),
            references: (record.references ?? []).map((x) => x.url),
            ecosystem,
            ...(record.published ? { publishedAt: new Date(record.published) } : {}),
            ...(record.modified ? { modifiedAt: new Date(record.modified) } : {}),
          });
          break;
        }
      }
    }
  }
  return [...findings.values()].sort(compareFindings);
}
