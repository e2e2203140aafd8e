import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { OsvRecord } from '../../src/core/ports/vuln-db.js';
import { importVulnDb, SqliteVulnDb } from '../../src/storage/vuln/sqlite-vuln-db.js';

const s = (): AbortSignal => AbortSignal.timeout(10_000);
const dir = mkdtempSync(join(tmpdir(), 'berth-vulndb-changes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rec = (id: string, details = 'd'): OsvRecord => ({ id, details, affected: [{ package: { ecosystem: 'npm', name: id.toLowerCase() }, versions: ['1.0.0'] }] });
async function* each(records: OsvRecord[]): AsyncIterable<OsvRecord> {
  yield* records;
}
const ids = (c: { records: OsvRecord[]; removed: string[] } | undefined) => c && { records: c.records.map((r) => r.id).sort(), removed: [...c.removed].sort() };

describe('vulnerability database change tracking', () => {
  it('answers what was added, modified and deleted since any earlier import of its chain', async () => {
    const path = join(dir, 'vulndb.sqlite');
    const db = await SqliteVulnDb.open(path);
    await importVulnDb(path, each([rec('A'), rec('B'), rec('C')]), 'one');
    await db.reload(s());
    const v1 = (await db.info(s()))!.version!;
    assert.equal(v1.generation, 1);
    assert.deepEqual(ids(await db.changedSince(v1, s())), { records: [], removed: [] });

    await importVulnDb(path, each([rec('A'), rec('B', 'changed'), rec('D')]), 'two');
    await db.reload(s());
    const v2 = (await db.info(s()))!.version!;
    assert.equal(v2.generation, 2);
    assert.deepEqual(ids(await db.changedSince(v1, s())), { records: ['B', 'D'], removed: ['C'] });
    assert.equal((await db.changedSince(v1, s()))!.records.find((r) => r.id === 'B')?.details, 'changed', 'the current form');

    // C comes back, D goes; the history since v1 and since v2 both stay exact.
    await importVulnDb(path, each([rec('A'), rec('B', 'changed'), rec('C')]), 'three');
    await db.reload(s());
    assert.deepEqual(ids(await db.changedSince(v2, s())), { records: ['C'], removed: ['D'] });
    assert.deepEqual(ids(await db.changedSince(v1, s())), { records: ['B', 'C'], removed: ['D'] });

    // Not an ancestor: a made-up import, or one of a new chain after the file was replaced by junk.
    assert.equal(await db.changedSince({ importId: 'nope', generation: 1 }, s()), undefined);
    writeFileSync(path, 'not sqlite');
    await importVulnDb(path, each([rec('A')]), 'four');
    await db.reload(s());
    assert.equal((await db.info(s()))!.version!.generation, 1, 'a damaged old file starts a new chain');
    assert.equal(await db.changedSince(v2, s()), undefined);
    await db.close();
  });
});
