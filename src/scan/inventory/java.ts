import type { Entry, ZipFile } from 'yauzl';
import type { InstalledPackage } from '../../core/scanning.js';

/** How deep nested archives are opened (Spring Boot's BOOT-INF/lib/*.jar is one level). */
const MAX_DEPTH = 2;
const MAX_ENTRY = 16 * 1024 * 1024;

// Loaded with the first Java archive a scan opens, not with the rest of the scanning engine (issue 12).
async function openZip(buf: Buffer): Promise<ZipFile> {
  const { default: yauzl } = await import('yauzl');
  return new Promise((resolve, reject) => yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip))));
}

function readEntry(zip: ZipFile, entry: Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => {
    if (err) return reject(err);
    const chunks: Buffer[] = [];
    let n = 0;
    s.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_ENTRY) s.destroy(new Error('archive entry too large'));
      else chunks.push(c);
    });
    s.on('error', reject);
    s.on('end', () => resolve(Buffer.concat(chunks)));
  }));
}

function parsePomProperties(text: string): { groupId?: string; artifactId?: string; version?: string } {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(groupId|artifactId|version)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * Maven artifacts inside a Java archive: each `META-INF/maven/<g>/<a>/pom.properties`, in the
 * archive and in archives nested in it. A corrupt archive yields nothing rather than failing the
 * image (jars are often repacked oddly).
 */
export async function parseJavaArchive(buf: Buffer, path: string, depth = 0): Promise<InstalledPackage[]> {
  let zip: ZipFile;
  try {
    zip = await openZip(buf);
  } catch {
    return [];
  }
  const out: InstalledPackage[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: Entry) => {
        const name = entry.fileName;
        const isPom = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(name);
        const isNested = depth < MAX_DEPTH && /\.(jar|war|ear)$/i.test(name) && entry.uncompressedSize <= 64 * 1024 * 1024;
        if (!isPom && !isNested) return zip.readEntry();
        readEntry(zip, entry).then(async (data) => {
          if (isPom) {
            const p = parsePomProperties(data.toString('utf8'));
            if (p.groupId && p.artifactId && p.version) out.push({ type: 'maven', name: `${p.groupId}:${p.artifactId}`, version: p.version, path });
          } else {
            out.push(...await parseJavaArchive(data, `${path}/${name}`, depth + 1));
          }
          zip.readEntry();
        }, reject);
      });
      zip.on('end', resolve);
      zip.on('error', reject);
      zip.readEntry();
    });
  } catch {
    // What was read before the damage is kept.
  } finally {
    zip.close();
  }
  return out;
}
