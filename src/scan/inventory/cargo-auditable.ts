import { inflateSync } from 'node:zlib';
import type { InstalledPackage } from '../../core/scanning.js';
import type { StreamScanner } from './go.js';

/*
 * `cargo auditable` embeds the crate list of a Rust binary as zlib-compressed JSON in a non-allocated
 * ELF section `.dep-v0`. Hand-written: the npm ELF readers want the whole file in memory, while the
 * layer reader streams executables; only the section table and one section are needed. A non-alloc
 * section is laid out after the program's code and data, near the section table at the end, so
 * keeping the file's last bytes suffices without buffering the whole file.
 */

/** Prefix of the bytes kept for an auditable binary, so the inventory knows what it holds. */
export const AUDITABLE_MARKER = Buffer.from('\0berth:cargo-auditable:dep-v0\0', 'latin1');
/** How much of a binary's end is kept while streaming (symbol tables of release builds fit). */
const TAIL = 16 * 1024 * 1024;
const MAX_SECTION = 4 * 1024 * 1024;
const MAX_JSON = 32 * 1024 * 1024;
const ELF_MAGIC = Buffer.from('\x7fELF', 'latin1');

interface Section {
  name: number;
  offset: number;
  size: number;
}

/** Bytes `[offset, offset + size)` of the file, or `undefined` when they are not all among the kept ones. */
type Range = (offset: number, size: number) => Buffer | undefined;

/** The `.dep-v0` bytes of an ELF file given its first 64 bytes and a reader of its last bytes. */
function depSection(head: Buffer, range: Range): Buffer | undefined {
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  const u16 = (b: Buffer, at: number): number => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const word = (b: Buffer, at: number): number => (is64 ? Number(le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at));
  const shoff = word(head, is64 ? 0x28 : 0x20);
  const shentsize = u16(head, is64 ? 0x3a : 0x2e);
  const shnum = u16(head, is64 ? 0x3c : 0x30);
  const shstrndx = u16(head, is64 ? 0x3e : 0x32);
  if (shentsize < (is64 ? 64 : 40) || shnum === 0 || shstrndx >= shnum) return undefined;
  const table = range(shoff, shnum * shentsize);
  if (!table) return undefined;
  const section = (i: number): Section => {
    const at = i * shentsize;
    return { name: u32(table, at), offset: word(table, at + (is64 ? 24 : 16)), size: word(table, at + (is64 ? 32 : 20)) };
  };
  const strtab = section(shstrndx);
  const names = range(strtab.offset, strtab.size);
  if (!names) return undefined;
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const end = names.indexOf(0, s.name);
    if (s.name >= names.length || names.subarray(s.name, end < 0 ? names.length : end).toString('latin1') !== '.dep-v0') continue;
    return s.size > MAX_SECTION ? undefined : range(s.offset, s.size);
  }
  return undefined;
}

/**
 * Keeps an executable's first 64 bytes and last 16 MiB while it streams by; the result is
 * {@link AUDITABLE_MARKER} followed by the `.dep-v0` section, or `undefined` for anything else.
 */
export function auditableScanner(): StreamScanner {
  let head = Buffer.alloc(0);
  let chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  let elf: boolean | undefined;
  return {
    push(chunk) {
      total += chunk.length;
      if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
      if (elf === undefined && head.length >= 4) elf = head.subarray(0, 4).equals(ELF_MAGIC);
      if (elf === false) return;
      chunks.push(chunk);
      kept += chunk.length;
      while (chunks.length > 1 && kept - chunks[0]!.length >= TAIL) kept -= chunks.shift()!.length;
    },
    result() {
      if (!elf || head.length < 64) return undefined;
      const start = total - kept;
      // Copies only the requested bytes out of the kept chunks (the tail is never joined whole).
      const range: Range = (offset, size) => {
        if (offset < start || offset + size > total) return undefined;
        const parts: Buffer[] = [];
        let at = start;
        for (const c of chunks) {
          const from = Math.max(offset, at);
          const to = Math.min(offset + size, at + c.length);
          if (from < to) parts.push(c.subarray(from - at, to - at));
          at += c.length;
        }
        return Buffer.concat(parts, size);
      };
      const dep = depSection(head, range);
      chunks = [];
      return dep ? Buffer.concat([AUDITABLE_MARKER, dep]) : undefined;
    },
  };
}

/**
 * The crates.io crates an auditable binary was built from (auditable-serde's `{"packages": [...]}`).
 * The root package is the program itself; `build` dependencies run at compile time and are not in
 * the binary; crates from git, a path or another registry are not in crates.io advisories. A
 * section that does not inflate or parse yields nothing.
 */
export function parseCargoAuditable(data: Buffer, path: string): InstalledPackage[] {
  let doc: unknown;
  try {
    doc = JSON.parse(inflateSync(data.subarray(AUDITABLE_MARKER.length), { maxOutputLength: MAX_JSON }).toString('utf8'));
  } catch {
    return [];
  }
  if (typeof doc !== 'object' || doc === null) return [];
  const pkgs = (doc as { packages?: unknown }).packages;
  if (!Array.isArray(pkgs)) return [];
  const out: InstalledPackage[] = [];
  for (const p of pkgs as Record<string, unknown>[]) {
    if (typeof p !== 'object' || p === null || p.root === true || p.source !== 'crates.io' || p.kind === 'build') continue;
    if (typeof p.name === 'string' && typeof p.version === 'string') out.push({ type: 'cargo', name: p.name, version: p.version, path });
  }
  return out;
}
