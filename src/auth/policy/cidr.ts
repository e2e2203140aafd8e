/**
 * IPv4/IPv6 address and CIDR parsing for the `IpAddress`/`NotIpAddress` operators. Hand-written
 * (a few dozen lines) so the policy engine stays dependency-free and pure.
 */

export interface IpAddress {
  readonly version: 4 | 6;
  readonly value: bigint;
}

export interface CidrBlock extends IpAddress {
  readonly prefix: number;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseV6(text: string): bigint | undefined {
  let s = text;
  // An embedded IPv4 tail (::ffff:10.0.0.1) stands for the last two 16-bit groups: rewrite it as hex.
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): bigint[] | undefined => {
    if (h === '') return [];
    const out: bigint[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt(`0x${g}`));
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const rest = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !rest) return undefined;
  const explicit = head.length + rest.length;
  // Without '::' all eight groups are written; with it, '::' stands for at least one zero group.
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const all = [...head, ...Array<bigint>(8 - explicit).fill(0n), ...rest];
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an address; IPv4-mapped IPv6 (`::ffff:a.b.c.d`, as Node reports v4 peers on dual-stack sockets) becomes IPv4. */
export function parseIp(text: string): IpAddress | undefined {
  const s = text.trim();
  if (!s.includes(':')) {
    const v4 = parseV4(s);
    return v4 === undefined ? undefined : { version: 4, value: v4 };
  }
  const v6 = parseV6(s);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 - V4_MAPPED_PREFIX };
  return { version: 6, value: v6 };
}

/** Parses `addr/prefix` or a bare address (a host route). */
export function parseCidr(text: string): CidrBlock | undefined {
  const [addr = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const bits = ip.version === 4 ? 32 : 128;
  // A v4-mapped block such as ::ffff:10.0.0.0/104 is the v4 block 10.0.0.0/8.
  const mapped = ip.version === 4 && addr.includes(':');
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText) - (mapped ? 96 : 0);
    if (prefix < 0 || prefix > bits) return undefined;
  }
  return { ...ip, prefix };
}

/** Whether `ip` lies inside `block`; addresses of the other IP version never match. */
export function cidrContains(block: CidrBlock, ip: IpAddress): boolean {
  if (block.version !== ip.version) return false;
  const shift = BigInt((block.version === 4 ? 32 : 128) - block.prefix);
  return block.value >> shift === ip.value >> shift;
}
