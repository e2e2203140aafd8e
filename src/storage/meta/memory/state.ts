import type { Digest } from '../../../core/digest.js';
import type { ManifestRecord, PageRequest, RepositorySettings } from '../../../core/ports/meta-store.js';

/** The in-memory layout: one {@link RepoState} per repository name. */
export interface StoredManifest {
  record: ManifestRecord;
  blobs: ReadonlySet<Digest>;
  children: ReadonlySet<Digest>;
  imageSize: number;
  /** Epoch ms of the last recorded pull. */
  lastPulledAt?: number;
}

export interface RepoState {
  createdAt: number;
  accountId: string;
  settings: RepositorySettings;
  policy?: string;
  blobs: Map<Digest, number>;
  manifests: Map<Digest, StoredManifest>;
  tags: Map<string, Digest>;
}

/**
 * `patch` applied over `base` (a deep copy); keys of `patch` whose value is `undefined` are
 * ignored, so an absent request field never erases a setting.
 */
export function mergeSettings(base: RepositorySettings, patch: Partial<RepositorySettings> | undefined): RepositorySettings {
  const defined = Object.fromEntries(Object.entries(patch ?? {}).filter(([, v]) => v !== undefined));
  return structuredClone({ ...base, ...defined });
}

export function paginate(names: Iterable<string>, page: PageRequest): string[] {
  const limit = Math.max(0, Math.floor(page.limit));
  const last = page.last;
  return [...names]
    .filter((n) => last === undefined || compareBytes(n, last) > 0)
    .sort(compareBytes)
    .slice(0, limit);
}

/**
 * Orders strings by their UTF-8 bytes, as the SQL stores do. UTF-8 byte order is code point order;
 * UTF-16 code units disagree with it only where a surrogate (a code point above U+FFFF) meets a
 * unit in U+E000..U+FFFF, so that one case is corrected.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    return xs !== ys ? (xs ? 1 : -1) : x - y;
  }
  return a.length - b.length;
}
