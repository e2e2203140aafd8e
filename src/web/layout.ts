import { html, type Html } from './html.js';

export interface PageContext {
  /** Signed-in user's display (ARN tail), or undefined on public pages without a session. */
  user?: string;
  csrf: string;
  /** The registry host clients push to (`host:port`). */
  host: string;
}

/** The page shell: header with navigation, main, footer. Scripts only from /ui/static (CSP: script-src 'self'). */
export function layout(title: string, ctx: PageContext, body: Html, opts: { active?: 'gallery' | 'console' } = {}): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} &middot; berth</title>
<link rel="stylesheet" href="/ui/static/app.css">
<script src="/ui/static/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <a class="brand" href="/ui/"><span class="logo-mark" aria-hidden="true">&#9875;</span> berth</a>
  <nav aria-label="Main">
    <a href="/ui/" ${opts.active === 'gallery' ? html`aria-current="page"` : ''}>Gallery</a>
    <a href="/ui/console" ${opts.active === 'console' ? html`aria-current="page"` : ''}>Console</a>
  </nav>
  <div class="session">
    ${ctx.user
      ? html`<span class="who" title="${ctx.user}">${ctx.user}</span>
        <form method="post" action="/ui/logout" class="inline"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit" class="btn btn-ghost">Sign out</button></form>`
      : html`<a class="btn btn-ghost" href="/ui/login">Sign in</a>`}
  </div>
</header>
<main id="main" tabindex="-1">
${body}
</main>
<footer class="foot">berth &middot; self-hosted, ECR-compatible registry &middot; <span class="mono">${ctx.host}</span></footer>
</body>
</html>`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export const formatDate = (d: Date): string => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

export function notice(kind: 'error' | 'ok', text: string | undefined): Html {
  return text ? html`<div class="notice notice-${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</div>` : html``;
}
