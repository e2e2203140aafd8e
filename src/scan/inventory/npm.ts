import type { InstalledPackage } from '../../core/scanning.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The package a `node_modules/<name>/package.json` (or scoped) describes. */
export function parseNpmPackageJson(text: string, path: string): InstalledPackage[] {
  try {
    const j: unknown = JSON.parse(text);
    if (!isObject(j) || typeof j.name !== 'string' || typeof j.version !== 'string') return [];
    return [{ type: 'npm', name: j.name, version: j.version, path }];
  } catch {
    return [];
  }
}

/**
 * Packages a `package-lock.json` pins: lockfile v2/v3 `packages` (keys `node_modules/...`, the
 * root entry `""` skipped) or v1 `dependencies` (nested).
 */
export function parseNpmLock(text: string, path: string): InstalledPackage[] {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isObject(j)) return [];
  const out: InstalledPackage[] = [];
  if (isObject(j.packages)) {
    for (const [key, v] of Object.entries(j.packages)) {
      if (!key || !isObject(v) || typeof v.version !== 'string' || v.link === true) continue;
      const name = typeof v.name === 'string' ? v.name : key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
      out.push({ type: 'npm', name, version: v.version, path });
    }
    return out;
  }
  const walk = (deps: unknown): void => {
    if (!isObject(deps)) return;
    for (const [name, v] of Object.entries(deps)) {
      if (!isObject(v) || typeof v.version !== 'string') continue;
      out.push({ type: 'npm', name, version: v.version, path });
      walk(v.dependencies);
    }
  };
  walk(j.dependencies);
  return out;
}
