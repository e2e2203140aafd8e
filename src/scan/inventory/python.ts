import type { InstalledPackage } from '../../core/scanning.js';

/**
 * The distribution a core-metadata file describes (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`
 * or a single-file `*.egg-info`): its `Name:` and `Version:` headers, read up to the first blank
 * line (the body is the long description).
 */
export function parsePythonMetadata(text: string, path: string): InstalledPackage[] {
  let name = '';
  let version = '';
  for (const line of text.split('\n')) {
    if (line.trim() === '') break;
    const m = /^(Name|Version):\s*(.+?)\s*$/i.exec(line);
    if (!m) continue;
    if (m[1]!.toLowerCase() === 'name') name = m[2]!;
    else version = m[2]!;
  }
  return name && version ? [{ type: 'pypi', name, version, path }] : [];
}
