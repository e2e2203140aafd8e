import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readOsv } from '../../src/scan/vulndb/read-osv.js';
import { importVulnDb, SqliteVulnDb } from '../../src/storage/vuln/sqlite-vuln-db.js';

const s = (): AbortSignal => AbortSignal.timeout(10_000);
const dir = mkdtempSync(join(tmpdir(), 'berth-vulndb-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rec = (id: string, ecosystem: string, name: string) => ({ id, modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] });

describe('berth vulndb import', () => {
  it('loads an osv.dev all.zip, indexes by ecosystem and (PEP 503) name, records source and time, and swaps in atomically for readers', async () => {
    const src = join(dir, 'export');
    mkdirSync(src);
    writeFileSync(join(src, 'GHSA-1.json'), JSON.stringify(rec('GHSA-1', 'PyPI', 'Jinja2')));
    writeFileSync(join(src, 'DEBIAN-1.json'), JSON.stringify(rec('DEBIAN-1', 'Debian:12', 'openssl')));
    writeFileSync(join(src, 'README.txt'), 'not a record');
    assert.equal(spawnSync('zip', ['-q', '-r', join(dir, 'all.zip'), '.'], { cwd: src }).status, 0);
    const path = join(dir, 'vulndb.sqlite');
    const reader = await SqliteVulnDb.open(path);
    assert.equal(await reader.info(s()), undefined, 'empty before the first import');
    const before = Date.now();
    assert.equal(await importVulnDb(path, readOsv(join(dir, 'all.zip')), join(dir, 'all.zip')), 2);
    assert.equal(await reader.reload(s()), true);
    assert.equal(await reader.reload(s()), false, 'no change, no reload');
    const info = await reader.info(s());
    assert.equal(info?.source, join(dir, 'all.zip'));
    assert.equal(info?.records, 2);
    assert.ok(info!.importedAt.getTime() >= before);
    assert.deepEqual((await reader.affecting('PyPI', ['jinja2'], s())).map((r) => r.id), ['GHSA-1']);
    assert.deepEqual((await reader.affecting('Debian:12', ['openssl'], s())).map((r) => r.id), ['DEBIAN-1']);
    assert.deepEqual(await reader.affecting('Debian:11', ['openssl'], s()), []);

    // A malformed record stops the import with its file named; the old data stays in place.
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'a.json'), JSON.stringify([rec('NEW-1', 'npm', 'x')]));
    writeFileSync(join(bad, 'b.json'), '{"id": "broken", ');
    await assert.rejects(importVulnDb(path, readOsv(bad), bad), (err: Error) => err.name === 'OsvFormatError' && err.message.includes(`${join(bad, 'b.json')}: not valid JSON`));
    await assert.rejects(importVulnDb(path, readOsv(join(dir, 'export', 'README.txt')), 'x'), /not valid JSON/);
    assert.equal(await reader.reload(s()), false);
    assert.equal((await reader.info(s()))?.records, 2);
    await reader.close();
  });
});
