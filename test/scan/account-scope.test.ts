import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import { DEFAULT_ACCOUNT_ID } from '../../src/core/ports/meta-store.js';
import { repoKey } from '../../src/core/repo-key.js';
import type { ScanRecord } from '../../src/core/scanning.js';
import { memoryApp } from '../http/helpers.js';

const OTHER = '222233334444';
const DIGEST = `sha256:${'a'.repeat(64)}` as Digest;
const signal = (): AbortSignal => AbortSignal.timeout(5000);
const record = (accountId: string): ScanRecord => ({
  accountId, repository: 'app', digest: DIGEST, status: 'COMPLETE', description: 'done', scanType: 'BASIC',
  startedAt: new Date(), completedAt: new Date(), findings: [], firstObserved: {},
});

// Two accounts may each own a repository called `app` (issue 6): their scans must never mix, and
// deleting one account's image or repository must leave the other's scans alone.
describe('scans are scoped to the account', () => {
  it('keeps same-named repositories of two accounts apart on read and on delete events', async () => {
    const app = await memoryApp();
    await app.scan.scans.putScan(record(DEFAULT_ACCOUNT_ID), signal());
    await app.scan.scans.putScan({ ...record(OTHER), description: 'other' }, signal());
    assert.equal((await app.scan.service.getScan(OTHER, 'app', DIGEST, signal()))?.description, 'other');
    assert.equal((await app.scan.service.getScan(DEFAULT_ACCOUNT_ID, 'app', DIGEST, signal()))?.description, 'done');

    app.events.emit({ type: 'manifest.deleted', repository: repoKey(OTHER, 'app'), digest: DIGEST, tags: [], at: new Date() });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await app.scan.service.getScan(OTHER, 'app', DIGEST, signal()), undefined);
    assert.equal((await app.scan.service.getScan(DEFAULT_ACCOUNT_ID, 'app', DIGEST, signal()))?.description, 'done');

    await app.scan.scans.putScan(record(OTHER), signal());
    app.events.emit({ type: 'repository.deleted', repository: repoKey(DEFAULT_ACCOUNT_ID, 'app'), at: new Date() });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await app.scan.service.getScan(DEFAULT_ACCOUNT_ID, 'app', DIGEST, signal()), undefined);
    assert.ok(await app.scan.service.getScan(OTHER, 'app', DIGEST, signal()));
  });
});
