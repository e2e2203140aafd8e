import type { InstalledPackage } from '../../core/scanning.js';

/** The build-info header Go (1.18+) writes into every binary's `.go.buildinfo` section. */
export const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
/** Bytes kept after the magic: the header, the Go version and the module info. */
const KEEP = 1024 * 1024;

/** A push-fed scanner over one file's bytes: `push` each chunk in order, then read `result()`. */
export interface StreamScanner {
  push(chunk: Buffer): void;
  result(): Buffer | undefined;
}

/**
 * Looks for the build-info magic in an executable's chunks; the result is the bytes from the magic
 * on (at most 1 MiB), or `undefined` when the file is not a Go binary. Never buffers the file.
 */
export function goBuildInfoScanner(): StreamScanner {
  let tail = Buffer.alloc(0);
  let found: Buffer[] | undefined;
  let kept = 0;
  return {
    push(chunk) {
      if (found) {
        if (kept < KEEP) {
          found.push(chunk);
          kept += chunk.length;
        }
        return;
      }
      const window = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      const at = window.indexOf(GO_BUILDINFO_MAGIC);
      if (at >= 0) {
        found = [window.subarray(at)];
        kept = window.length - at;
      } else {
        tail = Buffer.from(window.subarray(Math.max(0, window.length - GO_BUILDINFO_MAGIC.length + 1)));
      }
    },
    result: () => (found ? Buffer.concat(found).subarray(0, KEEP) : undefined),
  };
}

/** Streams an executable through {@link goBuildInfoScanner}. */
export async function probeGoBinary(body: AsyncIterable<Buffer>): Promise<Buffer | undefined> {
  const scanner = goBuildInfoScanner();
  for await (const chunk of body) scanner.push(chunk);
  return scanner.result();
}

function readVarint(b: Buffer, at: number): [number, number] | undefined {
  let v = 0;
  let shift = 0;
  for (let i = at; i < b.length && i < at + 10; i++) {
    const byte = b[i]!;
    v += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [v, i + 1];
    shift += 7;
  }
  return undefined;
}

/**
 * Modules in Go build info (the format `debug/buildinfo` reads): a 32-byte header whose flag bit
 * 2 says the version and module info follow inline as varint-prefixed strings (Go 1.18+). Older
 * binaries store pointers instead and are reported as unreadable. Yields `stdlib` at the Go
 * version (OSV's name for the standard library), the main module and each `dep` (after `=>`
 * replacements).
 */
export function parseGoBuildInfo(b: Buffer, path: string): InstalledPackage[] {
  if (b.length < 32 || !b.subarray(0, GO_BUILDINFO_MAGIC.length).equals(GO_BUILDINFO_MAGIC)) return [];
  if ((b[15]! & 0x2) === 0) return [];
  const v = readVarint(b, 32);
  if (!v) return [];
  const goVersion = b.subarray(v[1], v[1] + v[0]).toString('utf8');
  const m = readVarint(b, v[1] + v[0]);
  if (!m) return [];
  let mod = b.subarray(m[1], m[1] + m[0]).toString('utf8');
  // The module info is framed by two 16-byte sentinels.
  if (mod.length >= 33 && mod[mod.length - 17] === '\n') mod = mod.slice(16, -16);
  const out: InstalledPackage[] = [];
  const goV = /^go(\d+(?:\.\d+)*)/.exec(goVersion)?.[1];
  if (goV) out.push({ type: 'golang', name: 'stdlib', version: goV, path });
  let last: InstalledPackage | undefined;
  for (const line of mod.split('\n')) {
    const f = line.split('\t');
    if ((f[0] === 'mod' || f[0] === 'dep') && f[1] && f[2] && f[2] !== '(devel)') {
      last = { type: 'golang', name: f[1], version: f[2].replace(/^v/, ''), path };
      out.push(last);
    } else if (f[0] === '=>' && last && f[1] && f[2]) {
      last.name = f[1];
      last.version = f[2].replace(/^v/, '');
    }
  }
  return out;
}
