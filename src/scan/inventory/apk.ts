import type { InstalledPackage } from '../../core/scanning.js';

/**
 * Parses apk's installed database (`/lib/apk/db/installed`): blank-line separated records of
 * one-letter fields (`P` name, `V` version, `A` arch, `o` origin = source package).
 */
export function parseApkInstalled(text: string, path: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const rec of text.split(/\n\s*\n/)) {
    let name = '';
    let version = '';
    let arch = '';
    let origin = '';
    for (const line of rec.split('\n')) {
      if (line.length < 2 || line[1] !== ':') continue;
      const v = line.slice(2);
      switch (line[0]) {
        case 'P': name = v; break;
        case 'V': version = v; break;
        case 'A': arch = v; break;
        case 'o': origin = v; break;
        default: break;
      }
    }
    if (!name || !version) continue;
    out.push({ type: 'apk', name, version, path, ...(arch ? { arch } : {}), source: { name: origin || name, version } });
  }
  return out;
}
