/**
 * The console and gallery in a real browser: Debian's chromium driven by playwright-core (never a
 * downloaded browser). Gallery search and a repository page without signing in; root sign-in;
 * creating a private and a public repository through the forms, then pushing to both with podman;
 * push commands; deleting an image; signing out; a read-only IAM user who cannot create (button
 * disabled, forged request 403); markdown with <script> and onerror= that does not run; a forged
 * POST without the CSRF token refused. Screenshots land in test-artifacts/console/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CreateRepositoryCommand, ECRPUBLICClient, GetRepositoryCatalogDataCommand } from '@aws-sdk/client-ecr-public';
import { AttachUserPolicyCommand, CreateLoginProfileCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { buildImageLayout } from '../fixtures/oci-image.js';
import { Podman, REGION, awsCli, iamClient } from './aws-helpers.js';
import { BERTH_ARGS, BerthServer, REPO_ROOT, expectOk, makeTempDir, run } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'console');
const ALIAS = 'gal';
const ROOT_PASSWORD = 'correct-horse-battery';
const XSS = '# Hello\n\n<script>window.__xss = "script"</script>\n\n<img src="x" onerror="window.__xss = \'onerror\'">\n\n**bold** text';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082', 'hex');
const chromiumSkip = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (scripts/install-system-deps.sh installs it)`;
if (chromiumSkip) process.stderr.write(`# SKIP ${chromiumSkip}\n`);

describe('console and gallery in chromium', { timeout: 600_000, skip: chromiumSkip ?? false }, () => {
  let server: BerthServer;
  let context: BrowserContext;
  let page: Page;
  let podman: Podman | undefined;
  let podmanSkip: string | undefined;
  let imageId = '';
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const url = (path: string) => `${server.url}${path}`;

  async function signIn(accountId: string, userName: string, password: string): Promise<void> {
    await page.goto(url('/ui/login'));
    await page.getByLabel('Account ID').fill(accountId);
    await page.getByLabel(/IAM user name/).fill(userName);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/ui\/console$/);
  }

  async function podmanPush(t: TestContext, repo: string, api: 'ecr' | 'ecr-public'): Promise<boolean> {
    if (podmanSkip || !podman) {
      t.diagnostic(`podman push skipped: ${podmanSkip}`);
      return false;
    }
    const pw = expectOk(await awsCli(server, [api, 'get-login-password', '--region', REGION]), server);
    const authFile = join(podman.dir, 'console-auth.json');
    expectOk(await podman.run(['login', '--authfile', authFile, '--tls-verify=false', '--username', 'AWS', '--password-stdin', server.host], { input: pw.stdout }), server);
    expectOk(await podman.run(['tag', imageId, `${server.host}/${repo}:v1`]), server);
    expectOk(await podman.run(['push', '--authfile', authFile, '--tls-verify=false', `${server.host}/${repo}:v1`]), server);
    return true;
  }

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await BerthServer.start({ env: { BERTH_PUBLIC_ALIAS: ALIAS } });
    expectOk(await run(process.execPath, [...BERTH_ARGS, 'account', 'root-password', '--data-dir', server.dataDir], { input: `${ROOT_PASSWORD}\n`, cwd: REPO_ROOT }), server);
    const pub = new ECRPUBLICClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { ...server.rootKey } });
    await pub.send(new CreateRepositoryCommand({ repositoryName: 'webserver', catalogData: { description: 'A small web server', aboutText: XSS, usageText: '`docker run webserver`', architectures: ['x86-64'], operatingSystems: ['Linux'], logoImageBlob: PNG } }));
    await pub.send(new CreateRepositoryCommand({ repositoryName: 'armtool', catalogData: { description: 'An ARM tool', architectures: ['ARM 64'], operatingSystems: ['Linux'] } }));
    pub.destroy();
    const iam = iamClient(server, server.rootKey);
    await iam.send(new CreateUserCommand({ UserName: 'reader' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'reader', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly' }));
    await iam.send(new CreateLoginProfileCommand({ UserName: 'reader', Password: 'reader-password-1' }));
    iam.destroy();
    const p = await Podman.create([server.host]);
    if (typeof p === 'string') podmanSkip = p;
    else {
      podman = p;
      imageId = await p.load(await buildImageLayout(join(p.dir, 'layout'), { layers: 1 }), server);
      await podmanPush({ diagnostic: () => {} } as unknown as TestContext, `${ALIAS}/webserver`, 'ecr-public');
    }
    context = await chromium.launchPersistentContext(makeTempDir('berth-chromium-'), {
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('dialog', (d) => void d.accept());
  });
  after(async () => {
    await context?.close();
    await podman?.dispose();
    await server?.dispose();
  });

  it('the gallery opens at /ui/ without sign-in and searches by text and architecture', async () => {
    await page.goto(url('/ui/'));
    await assert.doesNotReject(page.getByRole('heading', { name: 'Public gallery' }).waitFor());
    assert.equal(await page.locator('.card').count(), 2);
    await shot('gallery');
    await page.getByLabel('Search').fill('web server');
    await page.getByRole('button', { name: 'Search' }).click();
    assert.deepEqual(await page.locator('.card-title').allTextContents(), ['webserver']);
    await page.goto(url('/ui/'));
    await page.getByLabel('Architecture').selectOption('ARM 64');
    await page.getByRole('button', { name: 'Search' }).click();
    assert.deepEqual(await page.locator('.card-title').allTextContents(), ['armtool']);
  });

  it('a repository page shows logo, badges, rendered markdown, tags and a pull command; the <script> and onerror= in aboutText do not run', async () => {
    await page.goto(url('/ui/'));
    await page.getByRole('link', { name: /webserver/ }).click();
    await page.getByRole('heading', { name: 'webserver', level: 1 }).waitFor();
    assert.equal(await page.locator('#about strong').textContent(), 'bold');
    assert.equal(await page.locator('#about script').count(), 0);
    assert.equal(await page.locator('[onerror]').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: string }).__xss), undefined);
    assert.match(await page.locator('#pull-cmd').textContent() ?? '', new RegExp(`docker pull ${server.host}/${ALIAS}/webserver:`));
    assert.equal(await page.locator('img.repo-logo').count(), 1);
    assert.equal(await page.locator('img.repo-logo').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), 1, 'the logo (a 1x1 PNG) loaded');
    if (!podmanSkip) assert.equal(await page.locator('table tbody tr').count(), 1);
    await shot('repository-page');
  });

  it('root signs in, creates a private repository with the form, and podman pushes to it', async (t) => {
    await signIn('000000000000', '', ROOT_PASSWORD);
    await shot('console-repositories');
    await page.getByRole('link', { name: 'Create private repository' }).click();
    await page.getByLabel('Repository name').fill('team/api');
    await page.getByLabel('Tag mutability').selectOption('IMMUTABLE_WITH_EXCLUSION');
    await page.getByLabel(/Exclusion filters/).fill('latest\ndev-*');
    await page.getByLabel('Scan on push').check();
    await shot('create-private');
    await page.getByRole('button', { name: 'Create repository' }).click();
    await page.waitForURL(/created=/);
    assert.match(await page.locator('#repositories').textContent() ?? '', /team\/api.*Private/s);
    if (await podmanPush(t, 'team/api', 'ecr')) {
      await page.getByRole('link', { name: 'team/api' }).click();
      assert.match(await page.locator('#images').textContent() ?? '', /v1/);
    }
  });

  it('a private repository inside the public alias is refused with a clear message', async () => {
    await page.goto(url('/ui/console/new?type=private'));
    await page.getByLabel('Repository name').fill(`${ALIAS}/sneaky`);
    await page.getByRole('button', { name: 'Create repository' }).click();
    assert.match(await page.getByRole('alert').textContent() ?? '', /alias of a public registry/);
  });

  it('creates a public repository with catalog data and a logo upload, podman pushes, push commands show the ecr-public login', async (t) => {
    await page.goto(url('/ui/console/new?type=public'));
    await page.getByLabel(/Repository name/).fill('site');
    await page.getByLabel('Description').fill('Static site');
    await page.getByLabel('x86-64').check();
    await page.getByLabel('ARM 64', { exact: true }).check();
    await page.getByLabel('Linux').check();
    await page.getByLabel(/About/).fill('## Static site\nServed by **berth**.');
    const logo = join(server.workDir, 'logo.png');
    await writeFile(logo, PNG);
    await page.getByLabel(/Logo/).setInputFiles(logo);
    await shot('create-public');
    await page.getByRole('button', { name: 'Create public repository' }).click();
    await page.waitForURL(/created=/);
    assert.match(await page.locator('#repositories').textContent() ?? '', /site.*Public/s);
    // The multipart form's fields, repeated checkboxes and file all arrived.
    const pub = new ECRPUBLICClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { ...server.rootKey } });
    const { catalogData } = await pub.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'site' }));
    assert.equal(catalogData?.description, 'Static site');
    assert.deepEqual([...catalogData?.architectures ?? []].sort(), ['ARM 64', 'x86-64']);
    assert.deepEqual(catalogData?.operatingSystems, ['Linux']);
    assert.match(catalogData?.aboutText ?? '', /Served by \*\*berth\*\*/);
    assert.ok(catalogData?.logoUrl, 'the uploaded logo is part of the catalog data');
    await podmanPush(t, `${ALIAS}/site`, 'ecr-public');
    await page.goto(url(`/ui/console/repo/${ALIAS}/site`));
    await page.getByText('View push commands').click();
    const commands = await page.locator('#push-commands ol').textContent() ?? '';
    assert.match(commands, /aws ecr-public get-login-password .*\| docker login --username AWS --password-stdin/);
    assert.match(commands, new RegExp(`docker push ${server.host}/${ALIAS}/site:latest`));
    await shot('push-commands');
    await page.goto(url('/ui/'));
    assert.match(await page.locator('.cards').textContent() ?? '', /site/);
  });

  it('deletes an image from the repository page', async (t) => {
    if (podmanSkip) return void t.skip(podmanSkip);
    await page.goto(url('/ui/console/repo/team/api'));
    // The tagged image by its row's button: with scan on push the repository may also list the image's SBOM
    // referrer (an untagged artifact, as ECR lists referrers), which stays when its subject is deleted.
    await page.getByRole('button', { name: 'Delete image v1' }).click();
    await page.getByText('Image deleted.').waitFor();
    const tags = (await page.locator('#images tbody tr td:first-child').allTextContents()).map((t) => t.trim());
    assert.ok(!tags.includes('v1'), `the v1 image is still listed: ${tags.join(' | ')}`);
    await shot('image-deleted');
  });

  it('an invalid policy is shown as an error; a valid one is saved', async () => {
    await page.goto(url('/ui/console/repo/team/api'));
    await page.getByLabel(/Policy JSON/).fill('{"Statement": "nope"}');
    await page.getByRole('button', { name: 'Save policy' }).click();
    assert.match(await page.getByRole('alert').textContent() ?? '', /Invalid repository policy/);
    await page.getByLabel(/Policy JSON/).fill(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'ecr:BatchGetImage' }] }));
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Policy saved.').waitFor();
  });

  it('a forged POST without the CSRF token is refused (403)', async () => {
    const res = await page.request.post(url('/ui/console/new?type=private'), { form: { name: 'forged/repo' }, maxRedirects: 0 });
    assert.equal(res.status(), 403);
    await page.goto(url('/ui/console'));
    assert.doesNotMatch(await page.locator('#repositories').textContent() ?? '', /forged/);
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await page.goto(url('/ui/console'));
    await page.waitForURL(/\/ui\/login$/);
  });

  it('a read-only user sees the create buttons disabled and gets 403 when forging the create form', async () => {
    await signIn('000000000000', 'reader', 'reader-password-1');
    assert.equal(await page.getByRole('button', { name: 'Create private repository' }).isDisabled(), true);
    await shot('read-only-console');
    await page.goto(url('/ui/console/new?type=private'));
    await page.getByLabel('Repository name').fill('reader/repo');
    await page.getByRole('button', { name: 'Create repository' }).click();
    assert.match(await page.getByRole('heading', { level: 1 }).textContent() ?? '', /Access denied/);
    assert.match(await page.locator('.notice').textContent() ?? '', /not authorized to perform: ecr:CreateRepository/);
  });

  it('wrong passwords are throttled after five attempts', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    let last = '';
    for (let i = 0; i < 6; i++) {
      await page.goto(url('/ui/login'));
      await page.getByLabel('Account ID').fill('000000000000');
      await page.getByLabel('Password').fill(`wrong-${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      last = await page.getByRole('alert').textContent() ?? '';
    }
    assert.match(last, /Too many failed sign-ins/);
  });
});
