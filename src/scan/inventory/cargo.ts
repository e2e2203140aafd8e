import type { InstalledPackage } from '../../core/scanning.js';

/**
 * Crates a `Cargo.lock` pins from crates.io (`[[package]]` tables with `name`, `version` and a
 * registry `source`; path and git dependencies are not published crates and are skipped). The
 * lockfile is a fixed machine-written TOML subset, so a line scanner suffices.
 */
export function parseCargoLock(text: string, path: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const block of text.split(/^\[\[package\]\]\s*$/m).slice(1)) {
    const get = (key: string): string | undefined => new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, 'm').exec(block)?.[1];
    const name = get('name');
    const version = get('version');
    const source = get('source');
    if (name && version && source?.startsWith('registry+')) out.push({ type: 'cargo', name, version, path });
  }
  return out;
}
