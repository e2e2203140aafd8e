import type { OsRelease } from '../../core/scanning.js';

/** Parses os-release(5): `KEY=value` lines, values optionally quoted with shell escapes. */
export function parseOsRelease(text: string): OsRelease | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    fields.set(m[1]!, v);
  }
  const id = fields.get('ID');
  if (!id) return undefined;
  const out: OsRelease = { id };
  const versionId = fields.get('VERSION_ID');
  const codename = fields.get('VERSION_CODENAME');
  const pretty = fields.get('PRETTY_NAME');
  if (versionId) out.versionId = versionId;
  if (codename) out.versionCodename = codename;
  if (pretty) out.prettyName = pretty;
  return out;
}
