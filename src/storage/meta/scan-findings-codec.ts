import { createHash } from 'node:crypto';
import { compareFindings, severityCounts, type CvssRating, type Finding, type InstalledPackage, type Severity } from '../../core/scanning.js';

/**
 * How an image's findings are stored (shared by the SQLite and PostgreSQL scan stores).
 *
 * Storing every finding in full made a re-evaluation of 1,000 images write ~1.5 GB (each of ~1,250
 * findings carried its advisory text). Instead, what every image with the same vulnerability shares
 * — the advisory — is stored once, content-addressed, and a finding names it and its package:
 *
 * ```
 *  scan_advisories   ref (pk: hash of body) · body json · created_at
 *                    body = vulnerabilityId, aliases, summary, description, severity, cvss,
 *                           references, ecosystem, publishedAt, modifiedAt
 *  image_scans.findings  {"v":2,"f":[[ref, pkg, fixedInVersion?], …]}
 *                    pkg = index into the image's inventory packages (image_inventories, immutable
 *                          per digest), or the package itself when the inventory does not list it
 * ```
 *
 * Rows written before (a JSON array of whole findings) are still read. Advisory rows are immutable,
 * so readers and writers may cache them without invalidation.
 */

/** The stored form of one advisory (dates as ISO strings). */
interface AdvisoryBody {
  vulnerabilityId: string;
  aliases: string[];
  summary: string;
  description: string;
  severity: Severity;
  cvss?: CvssRating;
  references: string[];
  ecosystem: string;
  publishedAt?: string;
  modifiedAt?: string;
}

/** A finding's share of an advisory, as findings carry it. */
type Advisory = Omit<Finding, 'package' | 'fixedInVersion'>;

type Entry = [ref: string, pkg: number | InstalledPackage, fixed?: string];

const MAX_CACHED = 50_000;
/** Parsed findings values kept: above a re-evaluation page (25 scans, src/scan/reevaluate.ts). */
const MAX_RECENT = 32;

function advisoryOf(f: Finding): Advisory {
  return {
    vulnerabilityId: f.vulnerabilityId, aliases: f.aliases, summary: f.summary, description: f.description,
    severity: f.severity, ...(f.cvss ? { cvss: f.cvss } : {}), references: f.references, ecosystem: f.ecosystem,
    ...(f.publishedAt ? { publishedAt: f.publishedAt } : {}), ...(f.modifiedAt ? { modifiedAt: f.modifiedAt } : {}),
  };
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a === b || (a.length === b.length && a.every((x, i) => x === b[i]));
const sameTime = (a: Date | undefined, b: Date | undefined): boolean => a?.getTime() === b?.getTime();
const sameCvss = (a: CvssRating | undefined, b: CvssRating | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.version === b.version && a.vector === b.vector && a.score === b.score && a.source === b.source);

/** Field-by-field equality; cheap in practice because findings of one record share their strings. */
function sameAdvisory(a: Advisory, f: Finding): boolean {
  return a.vulnerabilityId === f.vulnerabilityId && a.severity === f.severity && a.ecosystem === f.ecosystem
    && a.summary === f.summary && a.description === f.description && sameList(a.aliases, f.aliases)
    && sameList(a.references, f.references) && sameCvss(a.cvss, f.cvss)
    && sameTime(a.publishedAt, f.publishedAt) && sameTime(a.modifiedAt, f.modifiedAt);
}

/** Identity of a package within one inventory (every field of `InstalledPackage`). */
export function packageIdentity(p: InstalledPackage): string {
  return `${p.type}\u0000${p.name}\u0000${p.version}\u0000${p.path}\u0000${p.layer ?? ''}\u0000${p.arch ?? ''}\u0000${p.source ? `${p.source.name}\u0000${p.source.version}` : ''}`;
}

/** An inventory's package list with the lookup of a package's place in it (for encoding). */
export interface IndexedPackages {
  packages: readonly InstalledPackage[];
  /** The place of `p` in `packages`: of that very object, else of the first package equal to it in every field. */
  indexOf(p: InstalledPackage): number | undefined;
}

/**
 * Both lookups are built on first use. Findings matched from a stored inventory name its own package
 * objects, so the lookup by object (cheap to build) serves a re-evaluation; building the identity
 * strings of every package per distinct image was a noticeable share of it. An object found by
 * identity instead could sit at another place only if the inventory listed two packages equal in
 * every field — which decode to equal packages either way.
 */
export function indexPackages(packages: readonly InstalledPackage[]): IndexedPackages {
  let byObject: Map<InstalledPackage, number> | undefined;
  let byIdentity: Map<string, number> | undefined;
  return {
    packages,
    indexOf(p) {
      if (!byObject) {
        byObject = new Map();
        for (let i = packages.length - 1; i >= 0; i--) byObject.set(packages[i]!, i);
      }
      const i = byObject.get(p);
      if (i !== undefined) return i;
      if (!byIdentity) {
        byIdentity = new Map();
        packages.forEach((q, i) => {
          const k = packageIdentity(q);
          if (!byIdentity!.has(k)) byIdentity!.set(k, i);
        });
      }
      return byIdentity.get(packageIdentity(p));
    },
  };
}

/**
 * Encodes and decodes findings for one store instance, caching advisories it has written or read
 * (valid forever: an advisory row never changes, and is never deleted while referenced).
 */
export class FindingsCodec {
  /** Advisories known to be stored, by vulnerability id (several when an advisory changed). */
  readonly #written = new Map<string, { advisory: Advisory; ref: string }[]>();
  #writtenCount = 0;
  readonly #read = new Map<string, Advisory>();
  /**
   * Values parsed lately, newest first, so the same text is parsed once: by {@link missing} and then
   * {@link decode}, and by a re-evaluation's read ({@link subset}) and its write ({@link revise}) of
   * one scan a page later. Found by comparing texts (V8 compares lengths first), not in a Map: V8
   * hashes strings over 16 KiB by their length alone.
   */
  readonly #recent: [json: string, parsed: unknown][] = [];

  #parse(json: string): unknown {
    for (const [text, parsed] of this.#recent) if (text === json) return parsed;
    const parsed = JSON.parse(json) as unknown;
    if (this.#recent.unshift([json, parsed]) > MAX_RECENT) this.#recent.pop();
    return parsed;
  }

  /**
   * The stored form of `findings`, and the advisories it references that this instance has not
   * stored yet (the caller inserts them, ignoring ones already present, in the same transaction).
   */
  encode(findings: readonly Finding[], packages: IndexedPackages | undefined): { json: string; advisories: { ref: string; body: string }[] } {
    const fresh = new Map<string, string>();
    const entries = findings.map((f) => this.#entryOf(f, packages, fresh));
    return { json: JSON.stringify({ v: 2, f: entries }), advisories: [...fresh].map(([ref, body]) => ({ ref, body })) };
  }

  /**
   * Re-evaluation's read of a stored value: only the findings of `ids` (in stored order), and the
   * severity counts of all of them, without decoding the rest. Call {@link missing}/{@link learn} first.
   */
  subset(json: string, ids: ReadonlySet<string>, packagesOf: () => readonly InstalledPackage[] | undefined): { changed: Finding[]; counts: Partial<Record<Severity, number>> } {
    const parsed = this.#parse(json);
    if (Array.isArray(parsed)) {
      const all = this.decode(json, packagesOf);
      return { changed: all.filter((f) => ids.has(f.vulnerabilityId)), counts: severityCounts(all) };
    }
    const counts: Partial<Record<Severity, number>> = {};
    const picked: Entry[] = [];
    for (const e of (parsed as { f: Entry[] }).f) {
      const a = this.#advisory(e[0]);
      counts[a.severity] = (counts[a.severity] ?? 0) + 1;
      if (ids.has(a.vulnerabilityId)) picked.push(e);
    }
    return { changed: this.#findingsOf(picked, packagesOf), counts };
  }

  /**
   * Whether {@link subset} of the same arguments reads the image's inventory: a finding of `ids`
   * names its package by place. Call {@link missing}/{@link learn} first.
   */
  subsetReadsInventory(json: string, ids: ReadonlySet<string>): boolean {
    const parsed = this.#parse(json);
    if (Array.isArray(parsed)) return false;
    return (parsed as { f: Entry[] }).f.some((e) => typeof e[1] === 'number' && ids.has(this.#advisory(e[0]).vulnerabilityId));
  }

  /**
   * Re-evaluation's write: the stored value with the findings of `ids` replaced by `fresh` (sorted
   * by compareFindings), the other entries kept as stored — not decoded and encoded again, which
   * was most of a re-evaluation's time — and merged in order. Also the final vulnerability ids (for
   * first-seen times), severity counts, and the advisories to insert (as {@link encode}). Call
   * {@link missing}/{@link learn} first; `packages` is the inventory of the value's image.
   */
  revise(json: string, ids: ReadonlySet<string>, fresh: readonly Finding[], packages: IndexedPackages | undefined): {
    json: string; advisories: { ref: string; body: string }[]; ids: Set<string>; counts: Partial<Record<Severity, number>>;
  } {
    const parsed = this.#parse(json);
    if (Array.isArray(parsed)) {
      const merged = [...this.decode(json, () => packages?.packages).filter((f) => !ids.has(f.vulnerabilityId)), ...fresh].sort(compareFindings);
      return { ...this.encode(merged, packages), ids: new Set(merged.map((f) => f.vulnerabilityId)), counts: severityCounts(merged) };
    }
    const newAdvisories = new Map<string, string>();
    const out: Entry[] = [];
    const finalIds = new Set<string>();
    const counts: Partial<Record<Severity, number>> = {};
    const add = (e: Entry, id: string, severity: Severity) => {
      out.push(e);
      finalIds.add(id);
      counts[severity] = (counts[severity] ?? 0) + 1;
    };
    let j = 0;
    for (const e of (parsed as { f: Entry[] }).f) {
      const a = this.#advisory(e[0]);
      if (ids.has(a.vulnerabilityId)) continue;
      const pkg = typeof e[1] === 'number' ? packages?.packages[e[1]] : e[1];
      if (!pkg) throw new Error(`scan findings name package ${String(e[1])} of an inventory that does not list it`);
      const kept = { severity: a.severity, vulnerabilityId: a.vulnerabilityId, package: pkg } as Finding;
      for (; j < fresh.length && compareFindings(kept, fresh[j]!) >= 0; j++) add(this.#entryOf(fresh[j]!, packages, newAdvisories), fresh[j]!.vulnerabilityId, fresh[j]!.severity);
      add(e, a.vulnerabilityId, a.severity);
    }
    for (; j < fresh.length; j++) add(this.#entryOf(fresh[j]!, packages, newAdvisories), fresh[j]!.vulnerabilityId, fresh[j]!.severity);
    return { json: JSON.stringify({ v: 2, f: out }), advisories: [...newAdvisories].map(([ref, body]) => ({ ref, body })), ids: finalIds, counts };
  }

  #entryOf(f: Finding, packages: IndexedPackages | undefined, fresh: Map<string, string>): Entry {
    const ref = this.#refOf(f, fresh);
    const i = packages?.indexOf(f.package);
    const entry: Entry = [ref, i ?? f.package];
    if (f.fixedInVersion !== undefined) entry.push(f.fixedInVersion);
    return entry;
  }

  #advisory(ref: string): Advisory {
    const advisory = this.#read.get(ref);
    if (!advisory) throw new Error(`scan findings name advisory ${ref}, which is not stored`);
    return advisory;
  }

  /** Advisory refs of a stored findings value that this instance has not read yet. */
  missing(json: string): string[] {
    const parsed = this.#parse(json);
    if (Array.isArray(parsed)) return [];
    // Bounded here, not in learn(): the refs found cached now must still be there for decode().
    if (this.#read.size > MAX_CACHED) this.#read.clear();
    return [...new Set((parsed as { f: Entry[] }).f.map((e) => e[0]).filter((r) => !this.#read.has(r)))];
  }

  /** Remembers advisory rows read from the store. */
  learn(rows: readonly { ref: string; body: string }[]): void {
    for (const r of rows) {
      const b = JSON.parse(r.body) as AdvisoryBody;
      const { publishedAt, modifiedAt, ...rest } = b;
      this.#read.set(r.ref, {
        ...rest, ...(publishedAt !== undefined ? { publishedAt: new Date(publishedAt) } : {}),
        ...(modifiedAt !== undefined ? { modifiedAt: new Date(modifiedAt) } : {}),
      });
    }
  }

  /**
   * The findings of a stored value; `packagesOf` gives the image's inventory list (called only when
   * entries point into it). Call {@link missing}/{@link learn} first. Throws on a dangling reference.
   */
  decode(json: string, packagesOf: () => readonly InstalledPackage[] | undefined): Finding[] {
    const parsed = this.#parse(json);
    // The findings returned share objects with the parsed value, and go to callers: not kept.
    this.#recent.splice(this.#recent.findIndex(([text]) => text === json), 1);
    if (Array.isArray(parsed)) return (parsed as (Finding & { publishedAt?: string; modifiedAt?: string })[]).map(reviveLegacy);
    return this.#findingsOf((parsed as { f: Entry[] }).f, packagesOf);
  }

  #findingsOf(entries: readonly Entry[], packagesOf: () => readonly InstalledPackage[] | undefined): Finding[] {
    let packages: readonly InstalledPackage[] | undefined;
    return entries.map(([ref, pkg, fixed]) => {
      const advisory = this.#advisory(ref);
      const p = typeof pkg === 'number' ? (packages ??= packagesOf())?.[pkg] : pkg;
      if (!p) throw new Error(`scan findings name package ${String(pkg)} of an inventory that does not list it`);
      return { ...advisory, package: p, ...(fixed !== undefined ? { fixedInVersion: fixed } : {}) };
    });
  }

  /** Forgets every cached advisory (after a failed write, whose advisories may not be stored). */
  reset(): void {
    this.#written.clear();
    this.#writtenCount = 0;
    this.#read.clear();
  }

  #refOf(f: Finding, fresh: Map<string, string>): string {
    const known = this.#written.get(f.vulnerabilityId);
    const hit = known?.find((k) => sameAdvisory(k.advisory, f));
    if (hit) return hit.ref;
    const advisory = advisoryOf(f);
    const body = JSON.stringify(advisory);
    const ref = createHash('sha256').update(body).digest('base64url').slice(0, 32);
    if (this.#writtenCount >= MAX_CACHED) {
      this.#written.clear();
      this.#writtenCount = 0;
    }
    this.#written.set(f.vulnerabilityId, [...(known ?? []), { advisory, ref }]);
    this.#writtenCount++;
    this.#read.set(ref, advisory);
    fresh.set(ref, body);
    return ref;
  }
}

function reviveLegacy(f: Finding & { publishedAt?: Date | string; modifiedAt?: Date | string }): Finding {
  return {
    ...f,
    ...(f.publishedAt !== undefined ? { publishedAt: new Date(f.publishedAt) } : {}),
    ...(f.modifiedAt !== undefined ? { modifiedAt: new Date(f.modifiedAt) } : {}),
  };
}
