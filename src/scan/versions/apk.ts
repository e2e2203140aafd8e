/**
 * Alpine apk version order (apk-tools `version.c`):
 * `digits{.digits}[letter]{_suffix[digits]}[~hash][-r<revision>]`, where `_alpha < _beta < _pre
 * < _rc < (no suffix) < _cvs < _svn < _git < _hg < _p`. Hand-written from apk-tools' documented
 * grammar: no npm package implements it.
 */

const PRE = ['alpha', 'beta', 'pre', 'rc'];
const POST = ['cvs', 'svn', 'git', 'hg', 'p'];

interface Parsed { numbers: string[]; letter: string; suffixes: [number, bigint][]; revision: bigint }

function suffixRank(name: string): number {
  const pre = PRE.indexOf(name);
  if (pre >= 0) return pre - PRE.length; // negative: before the release
  const post = POST.indexOf(name);
  return post >= 0 ? post + 1 : POST.length + 1;
}

function parse(v: string): Parsed {
  const m = /^(\d+(?:\.\d+)*)([a-z]?)((?:_[a-z]+\d*)*)(?:~[0-9a-f]+)?(?:-r(\d+))?$/.exec(v.trim());
  if (!m) return { numbers: [v], letter: '', suffixes: [], revision: 0n };
  const suffixes: [number, bigint][] = [];
  for (const s of (m[3] ?? '').split('_').filter(Boolean)) {
    const sm = /^([a-z]+)(\d*)$/.exec(s)!;
    suffixes.push([suffixRank(sm[1]!), BigInt(sm[2] || '0')]);
  }
  return { numbers: m[1]!.split('.'), letter: m[2] ?? '', suffixes, revision: BigInt(m[4] ?? '0') };
}

/** A version component after the first compares as a decimal fraction when it has a leading zero. */
function compareNumber(a: string, b: string, first: boolean): number {
  if (!first && (a.startsWith('0') || b.startsWith('0'))) return a < b ? -1 : a > b ? 1 : 0;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Negative, zero or positive as `a` sorts before, equal to or after `b` in apk order. */
export function compareApk(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  const n = Math.max(x.numbers.length, y.numbers.length);
  for (let i = 0; i < n; i++) {
    const p = x.numbers[i];
    const q = y.numbers[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (!/^\d+$/.test(p) || !/^\d+$/.test(q)) return p < q ? -1 : p > q ? 1 : 0;
    const c = compareNumber(p, q, i === 0);
    if (c !== 0) return c;
  }
  if (x.letter !== y.letter) return x.letter < y.letter ? -1 : 1;
  const m = Math.max(x.suffixes.length, y.suffixes.length);
  for (let i = 0; i < m; i++) {
    const [ra, na] = x.suffixes[i] ?? [0, 0n];
    const [rb, nb] = y.suffixes[i] ?? [0, 0n];
    if (ra !== rb) return ra - rb;
    if (na !== nb) return na < nb ? -1 : 1;
  }
  return x.revision < y.revision ? -1 : x.revision > y.revision ? 1 : 0;
}
