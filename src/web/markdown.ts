import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { Html, trusted } from './html.js';

const marked = new Marked({ gfm: true, breaks: false, async: false });

/**
 * Catalog markdown (aboutText, usageText) as safe HTML: rendered by marked, then every tag and
 * attribute outside a small allowlist removed by sanitize-html — no script, no event handlers,
 * no style, no iframes, links only to http(s)/mailto (opened without the opener), images only
 * from https. The page's CSP forbids inline script as a second line of defence.
 */
export function renderMarkdown(text: string): Html {
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
