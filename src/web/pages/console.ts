import type { ImageDetail, Repository } from '../../core/ports/meta-store.js';
import { html, type Html } from '../html.js';
import { formatBytes, formatDate, layout, notice, type PageContext } from '../layout.js';
import { ARCHITECTURES, OPERATING_SYSTEMS } from './gallery.js';

const csrfField = (ctx: PageContext) => html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;

export function loginPage(ctx: PageContext, error: string | undefined, values: { accountId: string; userName: string }): Html {
  return layout('Sign in', ctx, html`
<section class="panel narrow">
  <h1>Sign in</h1>
  <p class="lede">Use an IAM user's console password, or leave the user name empty to sign in as the account root.</p>
  ${notice('error', error)}
  <form method="post" action="/ui/login" class="stack">
    ${csrfField(ctx)}
    <label class="field"><span>Account ID</span><input name="accountId" inputmode="numeric" pattern="[0-9]{12}" required value="${values.accountId}" autocomplete="username"></label>
    <label class="field"><span>IAM user name <small>(empty for root)</small></span><input name="userName" value="${values.userName}" autocomplete="username"></label>
    <label class="field"><span>Password</span><input name="password" type="password" required autocomplete="current-password"></label>
    <button class="btn btn-primary" type="submit">Sign in</button>
  </form>
</section>`, { active: 'console' });
}

export interface RepoRow {
  repository: Repository;
  /** Short name when public. */
  publicName?: string;
}

export function repositoryListPage(ctx: PageContext, rows: RepoRow[], filter: string, canCreate: boolean, message?: string): Html {
  const create = (href: string, label: string) => canCreate
    ? html`<a class="btn btn-primary" href="${href}">${label}</a>`
    : html`<button class="btn btn-primary" type="button" disabled title="You are not allowed to create repositories">${label}</button>`;
  return layout('Repositories', ctx, html`
<section class="page-head">
  <h1>Repositories</h1>
  <div class="actions">${create('/ui/console/new?type=private', 'Create private repository')} ${create('/ui/console/new?type=public', 'Create public repository')}</div>
</section>
${notice('ok', message)}
<form class="search" method="get" action="/ui/console" role="search">
  <label class="field grow"><span>Filter repositories</span><input type="search" name="q" value="${filter}" placeholder="Name contains&hellip;"></label>
  <button class="btn" type="submit">Filter</button>
</form>
<table class="table" id="repositories">
  <thead><tr><th scope="col">Name</th><th scope="col">Visibility</th><th scope="col">URI</th><th scope="col">Created</th><th scope="col">Tag mutability</th><th scope="col">Encryption</th></tr></thead>
  <tbody>${rows.length === 0 ? html`<tr><td colspan="6" class="empty">No repositories.</td></tr>` : rows.map((r) => html`<tr>
    <td><a href="/ui/console/repo/${r.repository.name}">${r.publicName ?? r.repository.name}</a></td>
    <td><span class="badge ${r.publicName ? 'badge-public' : 'badge-private'}">${r.publicName ? 'Public' : 'Private'}</span></td>
    <td class="mono">${ctx.host}/${r.repository.name}</td>
    <td>${formatDate(r.repository.createdAt)}</td>
    <td>${r.repository.settings.imageTagMutability}</td>
    <td>${r.repository.settings.encryption.encryptionType}</td>
  </tr>`)}</tbody>
</table>`, { active: 'console' });
}

export function newRepositoryPage(ctx: PageContext, type: 'private' | 'public', alias: string, error?: string): Html {
  const checkboxes = (name: string, legend: string, options: string[]) => html`<fieldset class="field"><legend>${legend}</legend>
    ${options.map((o) => html`<label class="check"><input type="checkbox" name="${name}" value="${o}"> ${o}</label>`)}</fieldset>`;
  const body = type === 'private' ? html`
  <form method="post" action="/ui/console/new?type=private" class="stack">
    ${csrfField(ctx)}
    <label class="field"><span>Repository name</span><input name="name" required pattern="[a-z0-9]+([._\\-\\/][a-z0-9]+)*" placeholder="team/app"></label>
    <label class="field"><span>Tag mutability</span><select name="tagMutability">
      <option value="MUTABLE">Mutable</option><option value="IMMUTABLE">Immutable</option>
      <option value="MUTABLE_WITH_EXCLUSION">Mutable, with immutable exclusions</option><option value="IMMUTABLE_WITH_EXCLUSION">Immutable, with mutable exclusions</option>
    </select></label>
    <label class="field"><span>Exclusion filters <small>(one wildcard per line, e.g. release-*)</small></span><textarea name="exclusions" rows="3"></textarea></label>
    <label class="check"><input type="checkbox" name="scanOnPush" value="true"> Scan on push</label>
    <label class="field"><span>Encryption</span><select name="encryption"><option value="AES256">AES-256</option><option value="KMS">AWS KMS</option></select></label>
    <label class="field"><span>KMS key <small>(for KMS; empty for the default key)</small></span><input name="kmsKey"></label>
    <button class="btn btn-primary" type="submit">Create repository</button>
  </form>` : html`
  <form method="post" action="/ui/console/new?type=public" class="stack" enctype="multipart/form-data">
    ${csrfField(ctx)}
    <label class="field"><span>Repository name <small>(under the alias <span class="mono">${alias}</span>)</small></span><input name="name" required placeholder="app"></label>
    <label class="field"><span>Description</span><input name="description" maxlength="1024"></label>
    ${checkboxes('architectures', 'Architectures', ARCHITECTURES)}
    ${checkboxes('operatingSystems', 'Operating systems', OPERATING_SYSTEMS)}
    <label class="field"><span>About <small>(markdown)</small></span><textarea name="aboutText" rows="6" maxlength="25600"></textarea></label>
    <label class="field"><span>Usage <small>(markdown)</small></span><textarea name="usageText" rows="4" maxlength="25600"></textarea></label>
    <label class="field"><span>Logo <small>(PNG or JPEG, at most 512,000 bytes)</small></span><input type="file" name="logo" accept="image/png,image/jpeg"></label>
    <button class="btn btn-primary" type="submit">Create public repository</button>
  </form>`;
  return layout(type === 'private' ? 'Create private repository' : 'Create public repository', ctx, html`
<nav class="crumbs" aria-label="Breadcrumb"><a href="/ui/console">Repositories</a> / <span>Create</span></nav>
<section class="panel">
  <h1>${type === 'private' ? 'Create private repository' : 'Create public repository'}</h1>
  ${notice('error', error)}
  ${body}
</section>`, { active: 'console' });
}

export interface RepoView {
  repository: Repository;
  publicName?: string;
  alias: string;
  images: ImageDetail[];
  policy: string;
  region: string;
  message?: { kind: 'ok' | 'error'; text: string };
  policyError?: string;
}

export function repositoryPage(ctx: PageContext, v: RepoView): Html {
  const uri = `${ctx.host}/${v.repository.name}`;
  const login = v.publicName
    ? `aws ecr-public get-login-password --region us-east-1 --endpoint-url http://${ctx.host} | docker login --username AWS --password-stdin ${ctx.host}`
    : `aws ecr get-login-password --region ${v.region} --endpoint-url http://${ctx.host} | docker login --username AWS --password-stdin ${ctx.host}`;
  const commands = [login, `docker build -t ${v.publicName ?? v.repository.name} .`, `docker tag ${v.publicName ?? v.repository.name}:latest ${uri}:latest`, `docker push ${uri}:latest`];
  return layout(v.publicName ?? v.repository.name, ctx, html`
<nav class="crumbs" aria-label="Breadcrumb"><a href="/ui/console">Repositories</a> / <span>${v.publicName ?? v.repository.name}</span></nav>
<section class="page-head">
  <div><h1>${v.publicName ?? v.repository.name} <span class="badge ${v.publicName ? 'badge-public' : 'badge-private'}">${v.publicName ? 'Public' : 'Private'}</span></h1>
  <p class="mono card-sub">${uri}</p>
  ${v.publicName ? html`<p><a href="/ui/r/${v.repository.name}">View in the gallery</a></p>` : ''}</div>
  <div class="actions">
    <details class="push" id="push-commands"><summary class="btn">View push commands</summary>
      <div class="popover"><h2>Push commands for ${v.publicName ?? v.repository.name}</h2>
      <ol>${commands.map((c, i) => html`<li><div class="copyline"><code id="cmd-${i}">${c}</code><button class="btn" type="button" data-copy="cmd-${i}">Copy</button></div></li>`)}</ol></div>
    </details>
  </div>
</section>
${v.message ? notice(v.message.kind, v.message.text) : ''}
<section aria-labelledby="images-h">
  <h2 id="images-h">Images</h2>
  <table class="table" id="images">
    <thead><tr><th scope="col">Tags</th><th scope="col">Digest</th><th scope="col">Size</th><th scope="col">Pushed</th><th scope="col">Last pulled</th><th scope="col">Type</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${v.images.length === 0 ? html`<tr><td colspan="7" class="empty">No images yet. Use the push commands above.</td></tr>` : v.images.map((i) => html`<tr>
      <td class="mono">${i.tags.length ? i.tags.join(', ') : html`<em>untagged</em>`}</td>
      <td class="mono digest" title="${i.digest}">${i.digest.slice(0, 19)}&hellip;</td>
      <td>${formatBytes(i.imageSize)}</td><td>${formatDate(i.pushedAt)}</td><td>${i.lastPulledAt ? formatDate(i.lastPulledAt) : '\u2014'}</td>
      <td class="small">${i.mediaType.replace('application/vnd.', '')}</td>
      <td><form method="post" action="/ui/console/action" data-confirm="Delete image ${i.digest.slice(0, 19)}?">${csrfField(ctx)}
        <input type="hidden" name="action" value="delete-image"><input type="hidden" name="repository" value="${v.repository.name}"><input type="hidden" name="digest" value="${i.digest}">
        <button class="btn btn-danger" type="submit" aria-label="Delete image ${i.tags[0] ?? i.digest}">Delete</button></form></td>
    </tr>`)}</tbody>
  </table>
</section>
<section aria-labelledby="policy-h" class="panel">
  <h2 id="policy-h">Repository policy</h2>
  ${notice('error', v.policyError)}
  <form method="post" action="/ui/console/action" class="stack">${csrfField(ctx)}
    <input type="hidden" name="action" value="set-policy"><input type="hidden" name="repository" value="${v.repository.name}">
    <label class="field"><span>Policy JSON <small>(empty removes the policy)</small></span><textarea name="policy" rows="10" class="mono" spellcheck="false">${v.policy}</textarea></label>
    <button class="btn btn-primary" type="submit">Save policy</button>
  </form>
</section>
<section class="panel danger-zone" aria-labelledby="danger-h">
  <h2 id="danger-h">Delete repository</h2>
  <form method="post" action="/ui/console/action" class="stack" data-confirm="Delete the repository ${v.repository.name}?">${csrfField(ctx)}
    <input type="hidden" name="action" value="delete-repository"><input type="hidden" name="repository" value="${v.repository.name}">
    <label class="check"><input type="checkbox" name="force" value="true"> Also delete its images</label>
    <button class="btn btn-danger" type="submit">Delete repository</button>
  </form>
</section>`, { active: 'console' });
}

export function errorPage(ctx: PageContext, status: number, text: string): Html {
  return layout(status === 403 ? 'Access denied' : 'Error', ctx, html`<section class="panel narrow"><h1>${status === 403 ? 'Access denied' : status === 404 ? 'Not found' : status === 429 ? 'Slow down' : 'Something went wrong'}</h1>${notice('error', text)}<p><a href="/ui/console">Back to repositories</a></p></section>`);
}
