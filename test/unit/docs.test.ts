import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { apiCoverageDoc, configurationDoc } from '../../scripts/docs.js';

const root = new URL('../..', import.meta.url).pathname;

describe('generated reference pages are current (run `npm run docs` after changing the schema or the operations)', () => {
  it('docs/configuration.md matches the config schema, the environment map and the serve flags', async () => {
    assert.equal(await readFile(`${root}docs/configuration.md`, 'utf8'), configurationDoc());
  });

  it('docs/api-coverage.md matches the service models and the operations berth registers', async () => {
    assert.equal(await readFile(`${root}docs/api-coverage.md`, 'utf8'), apiCoverageDoc());
  });

  it('the configuration page names every field with its environment variable where one exists', () => {
    const doc = configurationDoc();
    for (const key of ['listen', 'publicUrl', 'tls.certFile', 'tls.keyFile', 'workers', 'log.format', 'timeouts.idleSeconds']) assert.match(doc, new RegExp(`\\| \`${key.replace('.', '\\.')}\` \\|`));
    assert.match(doc, /`BERTH_TLS_CERT`/);
  });
});
