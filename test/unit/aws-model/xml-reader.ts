// A deliberately strict, tiny XML 1.0 reader for tests: it throws on anything not well-formed (mismatched or
// unclosed tags, a raw `<` or `&` in text, unknown entities, characters XML cannot carry, a second root), so
// parsing a rendered document proves the renderer escapes correctly. berth has no XML parser dependency and
// adding one only for tests isn't worth it; the subset here (no DTD, CDATA, comments, PIs) is all the Query
// renderer may produce.

/** One parsed element. `text` is the decoded character data directly inside it. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.-]*/;
const ENTITY: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const ILLEGAL = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function decode(raw: string, at: number): string {
  if (raw.includes('<')) throw new Error(`raw '<' in character data near ${at}`);
  return raw.replace(/&([^;]*);|&/g, (m, ent: string | undefined) => {
    if (ent === undefined) throw new Error(`bare '&' near ${at}`);
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    const v = ENTITY[ent];
    if (v === undefined) throw new Error(`unknown entity ${m} near ${at}`);
    return v;
  });
}

/** Parses `xml` into its root element; throws if the document is not well-formed. */
export function parseXml(xml: string): XmlElement {
  if (ILLEGAL.test(xml)) throw new Error('document contains characters XML 1.0 cannot carry');
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const skipWs = (): void => {
    while (i < xml.length && /\s/.test(xml[i]!)) i++;
  };
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  skipWs();
  while (i < xml.length) {
    if (xml[i] !== '<') {
      const end = xml.indexOf('<', i);
      const raw = xml.slice(i, end < 0 ? xml.length : end);
      const top = stack[stack.length - 1];
      if (!top) {
        if (raw.trim() !== '') throw new Error(`text outside the root element near ${i}`);
      } else top.text += decode(raw, i);
      i = end < 0 ? xml.length : end;
      continue;
    }
    if (xml[i + 1] === '/') {
      const name = NAME.exec(xml.slice(i + 2))?.[0];
      const open = stack.pop();
      if (!name || !open || open.name !== name) throw new Error(`mismatched </${name ?? '?'}> near ${i}`);
      i += 2 + name.length;
      skipWs();
      if (xml[i] !== '>') throw new Error(`malformed end tag near ${i}`);
      i++;
      continue;
    }
    const name = NAME.exec(xml.slice(i + 1))?.[0];
    if (!name) throw new Error(`malformed start tag near ${i}`);
    if (root && stack.length === 0) throw new Error(`second root element <${name}>`);
    i += 1 + name.length;
    const el: XmlElement = { name, attrs: {}, children: [], text: '' };
    for (;;) {
      skipWs();
      if (xml.startsWith('/>', i) || xml[i] === '>') break;
      const attr = /^([A-Za-z_:][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(xml.slice(i));
      if (!attr) throw new Error(`malformed attribute in <${name}> near ${i}`);
      if (Object.hasOwn(el.attrs, attr[1]!)) throw new Error(`duplicate attribute ${attr[1]}`);
      el.attrs[attr[1]!] = decode(attr[3] ?? attr[4] ?? '', i);
      i += attr[0].length;
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    if (xml.startsWith('/>', i)) i += 2;
    else {
      i++;
      stack.push(el);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

/** The first child named `name` (throws if absent, so tests read as paths). */
export function child(el: XmlElement, name: string): XmlElement {
  const c = el.children.find((x) => x.name === name);
  if (!c) throw new Error(`<${el.name}> has no <${name}>; children: ${el.children.map((x) => x.name).join(', ')}`);
  return c;
}
