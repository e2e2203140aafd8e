import type { InstalledPackage } from '../../core/scanning.js';

/**
 * Parses a dpkg status file (deb822 paragraphs, as `/var/lib/dpkg/status` and each file of the
 * distroless `status.d/`): installed packages only, with `Source: name (version)` mapped so OS
 * advisories (which name source packages) match.
 */
export function parseDpkgStatus(text: string, path: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    let last = '';
    for (const line of para.split('\n')) {
      if (/^[ \t]/.test(line)) {
        if (last) f.set(last, `${f.get(last) ?? ''}\n${line.trim()}`);
        continue;
      }
      const i = line.indexOf(':');
      if (i <= 0) continue;
      last = line.slice(0, i).trim().toLowerCase();
      f.set(last, line.slice(i + 1).trim());
    }
    const name = f.get('package');
    const version = f.get('version');
    if (!name || !version) continue;
    // status.d files carry no Status field; the main database marks removed-but-configured ones.
    const status = f.get('status');
    if (status !== undefined && !/\binstalled$/.test(status)) continue;
    const pkg: InstalledPackage = { type: 'deb', name, version, path };
    const arch = f.get('architecture');
    if (arch) pkg.arch = arch;
    const src = f.get('source');
    if (src) {
      const m = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(src);
      if (m) pkg.source = { name: m[1]!, version: m[2] ?? version };
    } else {
      pkg.source = { name, version };
    }
    out.push(pkg);
  }
  return out;
}
