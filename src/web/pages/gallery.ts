import type { ImageDetail } from '../../core/ports/meta-store.js';
import type { PublicRepository } from '../../core/services/public/public-repositories.js';
import { html, type Html } from '../html.js';
import { formatBytes, formatDate, layout, type PageContext } from '../layout.js';

export const ARCHITECTURES = ['ARM', 'ARM 64', 'x86', 'x86-64'];
export const OPERATING_SYSTEMS = ['Linux', 'Windows'];

const logoUrl = (p: PublicRepository): string | undefined => (p.record.logo ? `/ui/logos/${p.record.name}?v=${p.record.logo.etag}` : undefined);

function logo(p: PublicRepository, cls: string): Html {
  const url = logoUrl(p);
  return url
    ? html`<img class="${cls}" src="${url}" alt="" width="48" height="48">`
    : html`<span class="${cls} logo-placeholder" aria-hidden="true">${p.record.shortName.slice(0, 1).toUpperCase()}</span>`;
}

const badges = (p: PublicRepository): Html => html`<ul class="badges" aria-label="Platforms">${[...p.record.catalog.operatingSystems, ...p.record.catalog.architectures].map((b) => html`<li class="badge">${b}</li>`)}</ul>`;

export interface GalleryQuery {
  q: string;
  arch: string;
  os: string;
  last?: string;
}

/** `/ui/`: search public repositories by text, architecture and OS; cards link to repository pages. */
export function galleryPage(ctx: PageContext, query: GalleryQuery, results: PublicRepository[], total: number, next: string | undefined): Html {
  const select = (name: string, label: string, options: string[], value: string) => html`
    <label class="field"><span>${label}</span>
      <select name="${name}"><option value="">Any</option>${options.map((o) => html`<option ${o === value ? html`selected` : ''}>${o}</option>`)}</select>
    </label>`;
  const nextQuery = next ? new URLSearchParams({ q: query.q, arch: query.arch, os: query.os, last: next }).toString() : undefined;
  return layout('Gallery', ctx, html`
<section class="hero">
  <h1>Public gallery</h1>
  <p class="lede">Container images anyone can pull &mdash; no sign-in needed.</p>
  <form class="search" role="search" method="get" action="/ui/">
    <label class="field grow"><span>Search</span><input type="search" name="q" value="${query.q}" placeholder="Name or description" autofocus></label>
    ${select('arch', 'Architecture', ARCHITECTURES, query.arch)}
    ${select('os', 'Operating system', OPERATING_SYSTEMS, query.os)}
    <button class="btn btn-primary" type="submit">Search</button>
  </form>
</section>
<p class="count" aria-live="polite">${total} ${total === 1 ? 'repository' : 'repositories'}</p>
${results.length === 0 ? html`<p class="empty">No public repository matches.</p>` : html`
<ul class="cards">
  ${results.map((p) => html`<li class="card">
    <a class="card-link" href="/ui/r/${p.record.name}">
      ${logo(p, 'card-logo')}
      <span class="card-body">
        <span class="card-title">${p.record.shortName}</span>
        <span class="card-sub mono">${p.record.name}</span>
        <span class="card-desc">${p.record.catalog.description || 'No description'}</span>
      </span>
    </a>
    ${badges(p)}
  </li>`)}
</ul>`}
${nextQuery ? html`<nav class="pager" aria-label="Pages"><a class="btn" href="/ui/?${nextQuery}">Next page &rarr;</a></nav>` : ''}
`, { active: 'gallery' });
}

/** `/ui/r/<alias>/<name>`: logo, badges, about and usage (sanitized markdown, rendered by the caller), tags, pull command. */
export function publicRepositoryPage(ctx: PageContext, p: PublicRepository, displayName: string, images: ImageDetail[], text: { about?: Html | undefined; usage?: Html | undefined }): Html {
  const c = p.record.catalog;
  const pullRef = `${ctx.host}/${p.record.name}`;
  const firstTag = images.find((i) => i.tags.length)?.tags[0] ?? 'latest';
  return layout(p.record.shortName, ctx, html`
<nav class="crumbs" aria-label="Breadcrumb"><a href="/ui/">Gallery</a> / <span>${p.record.name}</span></nav>
<section class="repo-head">
  ${logo(p, 'repo-logo')}
  <div>
    <h1>${p.record.shortName}</h1>
    <p class="card-sub">${displayName || p.record.name.split('/')[0]} &middot; <span class="mono">${p.record.name}</span></p>
    <p class="lede">${c.description}</p>
    ${badges(p)}
  </div>
</section>
<section class="pull" aria-labelledby="pull-h">
  <h2 id="pull-h">Pull</h2>
  <div class="copyline"><code id="pull-cmd">docker pull ${pullRef}:${firstTag}</code>
    <button class="btn" type="button" data-copy="pull-cmd">Copy</button></div>
</section>
<div class="cols">
  <section class="about" aria-labelledby="about-h">
    <h2 id="about-h">About</h2>
    <div class="markdown" id="about">${text.about ?? html`<p class="empty">No description provided.</p>`}</div>
    <h2>Usage</h2>
    <div class="markdown" id="usage">${text.usage ?? html`<p class="empty">No usage notes.</p>`}</div>
  </section>
  <section aria-labelledby="tags-h">
    <h2 id="tags-h">Image tags <span class="count">${images.reduce((n, i) => n + i.tags.length, 0)}</span></h2>
    <table class="table">
      <thead><tr><th scope="col">Tag</th><th scope="col">Size</th><th scope="col">Pushed</th><th scope="col">Digest</th></tr></thead>
      <tbody>${images.flatMap((i) => i.tags.map((t) => html`<tr><td class="mono">${t}</td><td>${formatBytes(i.imageSize)}</td><td>${formatDate(i.pushedAt)}</td><td class="mono digest" title="${i.digest}">${i.digest.slice(0, 19)}&hellip;</td></tr>`))}</tbody>
    </table>
  </section>
</div>
`, { active: 'gallery' });
}
