/**
 * docs/getting-started.md is executable: every ```sh block, in order, runs in one bash session
 * (`set -euo pipefail`) against a fresh berth, with podman on a private store and login file. A
 * command that fails, or a block that prints "unexpected", fails the test — so the page a newcomer
 * follows cannot drift from what berth does.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BerthServer, describeRun, run, toolSkipReason } from './harness.js';

const skip = (await toolSkipReason('podman')) ?? (await toolSkipReason('aws'));

/** The ```sh blocks of a markdown page, in order. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('docs/getting-started.md runs as written', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  before(async () => {
    server = await BerthServer.start();
  });
  after(() => server?.dispose());

  it('every sh block succeeds in order against a fresh berth', async () => {
    const doc = await readFile(new URL('../../docs/getting-started.md', import.meta.url), 'utf8');
    const blocks = shellBlocks(doc);
    assert.ok(blocks.length >= 8, `expected the walk-through's blocks, found ${blocks.length}`);
    const work = join(server.workDir, 'walkthrough');
    await mkdir(work, { recursive: true });
    // podman on a store of its own (vfs) so the walk-through never touches the machine's images.
    const storageConf = join(work, 'storage.conf');
    await writeFile(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${join(work, 'containers')}"\nrunroot = "${join(work, 'run')}"\n`);
    const script = ['set -euo pipefail', ...blocks.map((b, i) => `echo "### block ${i + 1}"\n${b}`)].join('\n');
    const r = await run('bash', ['-c', script], {
      cwd: work,
      timeoutMs: 540_000,
      env: {
        REGISTRY: server.host,
        AWS_SHARED_CREDENTIALS_FILE: join(server.dataDir, 'credentials'),
        AWS_CONFIG_FILE: '/dev/null', AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true',
        CONTAINERS_STORAGE_CONF: storageConf,
        REGISTRY_AUTH_FILE: join(work, 'auth.json'),
      },
    });
    assert.equal(r.code, 0, describeRun(r, server));
    assert.doesNotMatch(r.stdout, /unexpected/);
    // What the page promises the reader sees.
    assert.match(r.stdout, /arn:aws:iam::000000000000:root/);
    assert.match(r.stdout, new RegExp(`${server.host.replace(/\./g, '\\.')}/hello-app`));
    assert.match(r.stderr, /already exists in the 'hello-app' repository and cannot be overwritten/);
    assert.match(r.stderr, /not authorized to perform: ecr:/);
  });
});
