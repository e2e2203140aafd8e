/**
 * Maven version order (Maven's `ComparableVersion`): items split at `.`, `-` and digit/letter
 * changes; a `-` or a change opens a nested list; numbers beat qualifiers; qualifiers order
 * `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp < others
 * (lexically)`; trailing zero and empty items do not count (`1.0 == 1`). Hand-written from the
 * documented algorithm: no npm package implements it.
 */

type Item = bigint | string | Item[];

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };

function qualifierKey(q: string, followedByDigit: boolean): string {
  let s = q.toLowerCase();
  if (followedByDigit && s.length === 1) s = ({ a: 'alpha', b: 'beta', m: 'milestone' } as Record<string, string>)[s] ?? s;
  s = ALIASES[s] ?? s;
  const i = QUALIFIERS.indexOf(s);
  return i >= 0 ? String(i) : `${QUALIFIERS.length}-${s}`;
}

const isNull = (x: Item): boolean => (typeof x === 'bigint' ? x === 0n : typeof x === 'string' ? x === qualifierKey('', false) : x.length === 0);

/** Drops null items from the end, looking past nested lists (so `1.0-alpha` is `1-alpha`). */
function normalize(list: Item[]): Item[] {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i]!;
    if (isNull(item)) list.splice(i, 1);
    else if (!Array.isArray(item)) break;
  }
  return list;
}

function parse(v: string): Item[] {
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  let buf = '';
  let digits = false;
  const push = (next: string | undefined): void => {
    if (buf === '') list.push(0n);
    else list.push(digits ? BigInt(buf) : qualifierKey(buf, next !== undefined && /\d/.test(next)));
    buf = '';
  };
  const nest = (): void => {
    const sub: Item[] = [];
    list.push(sub);
    list = sub;
    stack.push(sub);
  };
  const s = v.trim();
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '.') push(s[i + 1]);
    else if (c === '-') {
      push(s[i + 1]);
      nest();
    } else if (/\d/.test(c)) {
      if (buf !== '' && !digits) {
        push(c);
        nest();
      }
      digits = true;
      buf += c;
    } else {
      if (buf !== '' && digits) {
        push(c);
        nest();
      }
      digits = false;
      buf += c;
    }
  }
  if (buf !== '') push(undefined);
  for (const l of stack.reverse()) normalize(l);
  return root;
}

function compareItem(a: Item | undefined, b: Item | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return -compareItem(b, undefined);
  if (b === undefined) {
    if (typeof a === 'bigint') return a === 0n ? 0 : 1;
    if (typeof a === 'string') return a < qualifierKey('', false) ? -1 : a > qualifierKey('', false) ? 1 : 0;
    return a.length === 0 ? 0 : compareItem(a[0], undefined);
  }
  if (typeof a === 'bigint') {
    if (typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
    return 1;
  }
  if (typeof a === 'string') {
    if (typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
    return -1;
  }
  if (typeof b === 'bigint') return -1;
  if (typeof b === 'string') return 1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareItem(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Negative, zero or positive as `a` sorts before, equal to or after `b` in Maven order. */
export function compareMaven(a: string, b: string): number {
  return compareItem(parse(a), parse(b));
}
