import type { Marked } from 'marked';
import { Html, trusted } from './html.js';

type Libraries = { marked: Marked; sanitizeHtml: typeof import('sanitize-html') };
let libraries: Promise<Libraries> | undefined;

/** marked and sanitize-html, loaded on the first page that renders markdown (off the server's start path, issue 12). */
function load(): Promise<Libraries> {
  libraries ??= Promise.all([import('marked'), import('sanitize-html')]).then(([m, s]) => ({
    marked: new m.Marked({ gfm: true, breaks: false, async: false }),
    sanitizeHtml: s.default,
  }));
  return libraries;
}

/**
 * Catalog markdown (aboutText, usageText) as safe HTML: rendered by marked, then every tag and
 * attribute outside a small allowlist removed by sanitize-html — no script, no event handlers,
 * no style, no iframes, links only to http(s)/mailto (opened without the opener), images only
 * from https. The page's CSP forbids inline script as a second line of defence.
 */
export async function renderMarkdown(text: string): Promise<Html> {
  const { marked, sanitizeHtml } = await load();
  const raw = marked.parse(text) as string;
  return trusted(sanitizeHtml(raw, {
    allowedTags: ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code', 'em', 'strong', 'del', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
    allowedAttributes: { a: ['href', 'title'], img: ['src', 'alt', 'title'], code: ['class'], th: ['align'], td: ['align'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['https'] },
    allowProtocolRelative: false,
    transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow' }) },
  }));
}
