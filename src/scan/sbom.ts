import { createHash } from 'node:crypto';
import { PackageURL } from 'packageurl-js';
import type { Digest } from '../core/digest.js';
import type { InstalledPackage, Inventory, OsRelease } from '../core/scanning.js';

export { CYCLONEDX_MEDIA_TYPE } from './sbom-media-type.js';

/** The package URL (purl spec) of an installed package, built by the packageurl-js library. */
export function purlOf(p: InstalledPackage, os: OsRelease | undefined): string {
  const qualifiers: Record<string, string> = {};
  if (p.arch) qualifiers.arch = p.arch;
  if (os) qualifiers.distro = `${os.id}-${os.versionId ?? ''}`;
  const split = (name: string, sep: string): [string | undefined, string] => {
    const i = name.lastIndexOf(sep);
    return i > 0 ? [name.slice(0, i), name.slice(i + 1)] : [undefined, name];
  };
  switch (p.type) {
    case 'rpm': {
      // The purl spec's rpm type carries the epoch as a qualifier, not in the version.
      const m = /^(\d+):(.+)$/.exec(p.version);
      if (m) qualifiers.epoch = m[1]!;
      return new PackageURL('rpm', os?.id, p.name, m ? m[2]! : p.version, qualifiers, undefined).toString();
    }
    case 'deb': case 'apk':
      return new PackageURL(p.type, os?.id ?? (p.type === 'apk' ? 'alpine' : undefined), p.name, p.version, qualifiers, undefined).toString();
    case 'npm': {
      const [ns, name] = p.name.startsWith('@') ? split(p.name, '/') : [undefined, p.name];
      return new PackageURL('npm', ns, name, p.version, undefined, undefined).toString();
    }
    case 'maven': {
      const [ns, name] = split(p.name, ':');
      return new PackageURL('maven', ns, name, p.version, undefined, undefined).toString();
    }
    case 'golang': {
      const [ns, name] = split(p.name, '/');
      return new PackageURL('golang', ns, name, p.name === 'stdlib' ? `go${p.version}` : `v${p.version}`, undefined, undefined).toString();
    }
    default:
      return new PackageURL(p.type, undefined, p.name, p.version, undefined, undefined).toString();
  }
}

/** A UUID derived from the image digest, so the same image always gets the same document. */
function serialOf(digest: Digest): string {
  const h = createHash('sha256').update(`berth-sbom:${digest}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * A CycloneDX 1.5 JSON SBOM of one image. Deterministic (no timestamp, serial number derived
 * from the digest), so attaching it twice stores one referrer, not two.
 */
export function buildSbom(repository: string, digest: Digest, inventory: Inventory): Record<string, unknown> {
  const seen = new Set<string>();
  const components: Record<string, unknown>[] = [];
  if (inventory.os) {
    components.push({ type: 'operating-system', 'bom-ref': 'os', name: inventory.os.id, ...(inventory.os.versionId ? { version: inventory.os.versionId } : {}), ...(inventory.os.prettyName ? { description: inventory.os.prettyName } : {}) });
  }
  for (const p of inventory.packages) {
    const purl = purlOf(p, inventory.os);
    const ref = `${purl}#${p.path}`;
    if (seen.has(ref)) continue;
    seen.add(ref);
    components.push({
      type: 'library', 'bom-ref': ref, name: p.name, version: p.version, purl,
      properties: [
        { name: 'berth:package:type', value: p.type },
        { name: 'berth:package:path', value: p.path },
        ...(p.layer ? [{ name: 'berth:package:layer', value: p.layer }] : []),
        ...(p.source ? [{ name: 'berth:package:source', value: `${p.source.name}@${p.source.version}` }] : []),
      ],
    });
  }
  return {
    bomFormat: 'CycloneDX', specVersion: '1.5', serialNumber: serialOf(digest), version: 1,
    metadata: {
      tools: { components: [{ type: 'application', name: 'berth' }] },
      component: { type: 'container', 'bom-ref': digest, name: repository, version: digest },
    },
    components,
  };
}
