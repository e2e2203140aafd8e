/**
 * The wal-index counter (src/storage/meta/sqlite/wal-index-counter.ts) stands in for `PRAGMA
 * data_version` in the SQLite store's change stamp: it must change on every commit of any connection
 * or process, never on reads, refuse headers it cannot trust, and not keep descriptors of deleted
 * databases open. Reads of it are shared among the requests of one event-loop turn only as far as
 * shared-reads.ts allows.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { after, describe, it } from 'node:test';
import { MAX_SHARING_CONNECTIONS, requestArrived } from '../../src/storage/meta/sqlite/shared-reads.js';
import { Statements } from '../../src/storage/meta/sqlite/statements.js';
import { WalIndexCounter, walIndexChange } from '../../src/storage/meta/sqlite/wal-index-counter.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-wal-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function walDb(path = join(dir, `db-${++files}.db`)): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS t (v INTEGER)');
  return db;
}

/** Descriptors of this process open on files under `dir`. */
function openUnder(prefix: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(prefix);
    } catch {
      return false;
    }
  }).length;
}

describe('walIndexChange', () => {
  const header = (change: number, opts: { version?: number; init?: number } = {}) => {
    const copy = Buffer.alloc(48);
    copy.writeUInt32LE(opts.version ?? 3007000, 0);
    copy.writeUInt32LE(change, 8);
    copy[12] = opts.init ?? 1;
    return copy;
  };

  it('reads iChange when both copies agree', () => {
    assert.equal(walIndexChange(Buffer.concat([header(41), header(41)])), 41);
  });

  it('refuses copies that differ (a commit between its two writes), an uninitialised header, another version, short reads', () => {
    assert.equal(walIndexChange(Buffer.concat([header(41), header(42)])), undefined);
    assert.equal(walIndexChange(Buffer.concat([header(5, { init: 0 }), header(5, { init: 0 })])), undefined);
    assert.equal(walIndexChange(Buffer.concat([header(5, { version: 3007001 }), header(5, { version: 3007001 })])), undefined);
    assert.equal(walIndexChange(header(5)), undefined);
  });
});

describe('WalIndexCounter', () => {
  it('is not used for an in-memory or a rollback-journal database', () => {
    const memory = new Database(':memory:');
    const journal = new Database(join(dir, `db-${++files}.db`));
    try {
      assert.equal(WalIndexCounter.of(memory), undefined);
      assert.equal(WalIndexCounter.of(journal), undefined);
    } finally {
      memory.close();
      journal.close();
    }
  });

  it('changes on every commit of this connection, another connection and another process; not on reads', () => {
    const mine = walDb();
    const other = new Database(mine.name);
    try {
      const counter = WalIndexCounter.of(mine);
      assert.ok(counter, 'a WAL file has a counter');
      let last = counter.read();
      assert.equal(typeof last, 'number');
      const moved = () => {
        const now = counter.read();
        const changed = now !== last;
        last = now;
        return changed;
      };
      mine.prepare('SELECT count(*) FROM t').get();
      other.prepare('SELECT count(*) FROM t').get();
      assert.equal(moved(), false, 'reads');
      mine.prepare('INSERT INTO t VALUES (1)').run();
      assert.equal(moved(), true, 'a commit through this connection');
      other.prepare('INSERT INTO t VALUES (2)').run();
      assert.equal(moved(), true, 'a commit through another connection');
      other.pragma('wal_checkpoint(TRUNCATE)');
      other.prepare('INSERT INTO t VALUES (3)').run();
      assert.equal(moved(), true, 'a commit that restarts the WAL after a checkpoint');
      const script = `const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))}); const d = new D(${JSON.stringify(mine.name)}); d.prepare('INSERT INTO t VALUES (4)').run(); d.close();`;
      execFileSync(process.execPath, ['-e', script]);
      assert.equal(moved(), true, 'a commit by another process');
      assert.equal(moved(), false);
    } finally {
      other.close();
      mine.close();
    }
  });

  it('shares one descriptor per file and lets go of it once the database is deleted', () => {
    const prefix = join(dir, 'many');
    const path = `${prefix}.db`;
    const a = walDb(path);
    const b = new Database(path);
    assert.ok(WalIndexCounter.of(a) && WalIndexCounter.of(b));
    assert.equal(openUnder(`${path}-shm`) >= 1, true);
    const before = openUnder(prefix);
    assert.ok(WalIndexCounter.of(a));
    assert.equal(openUnder(prefix), before, 'a second counter of the same file opens nothing more');
    b.close();
    a.close(); // the last connection: SQLite deletes the -shm file
    for (let i = 0; i < 20; i++) {
      const db = walDb(`${prefix}-${i}.db`);
      assert.ok(WalIndexCounter.of(db));
      db.close();
    }
    // Each new file's counter sweeps the descriptors of deleted ones: at most the newest is left.
    assert.ok(openUnder(prefix) <= 1, `descriptors left open: ${openUnder(prefix)}`);
  });
});

describe('reads shared within one turn of the event loop (shared-reads.ts)', () => {
  /** A commit the process cannot know of but through the file: another process's. */
  const commitElsewhere = (path: string) => {
    const script = `const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))}); const d = new D(${JSON.stringify(path)}); d.prepare('INSERT INTO t VALUES (9)').run(); d.close();`;
    execFileSync(process.execPath, ['-e', script]);
  };
  const turnEnds = () => new Promise<void>((r) => setImmediate(r));

  it('shares one read among the requests of different connections in a turn, and reads again once it ends', async () => {
    const db = walDb();
    try {
      const counter = WalIndexCounter.of(db)!;
      const before = counter.read();
      requestArrived(new Socket(), 2);
      const first = counter.read();
      assert.equal(first, before);
      commitElsewhere(db.name);
      requestArrived(new Socket(), 2);
      assert.equal(counter.read(), first, 'a request on another connection in the same turn shares the read');
      await turnEnds();
      assert.notEqual(counter.read(), first, 'the next turn reads the file');
      commitElsewhere(db.name);
      assert.equal(counter.read(), first! + 2, 'outside a turn every read reads the file');
    } finally {
      db.close();
    }
  });

  it("reads again for a connection's second request in a turn (a pipelining client)", async () => {
    const db = walDb();
    try {
      const counter = WalIndexCounter.of(db)!;
      const socket = new Socket();
      requestArrived(socket, 1);
      const first = counter.read();
      commitElsewhere(db.name);
      requestArrived(new Socket(), 2);
      assert.equal(counter.read(), first);
      requestArrived(socket, 2);
      assert.equal(counter.read(), first! + 1, 'the second request of a connection in a turn');
      await turnEnds();
    } finally {
      db.close();
    }
  });

  it('reads again after a write through any SQLite connection of this process', async () => {
    const db = walDb();
    const other = new Database(db.name);
    const q = new Kysely<{ t: { v: number } }>({ dialect: new SqliteDialect({ database: other }) });
    try {
      const counter = WalIndexCounter.of(db)!;
      requestArrived(new Socket(), 1);
      const first = counter.read();
      new Statements(other).run(q.insertInto('t').values({ v: 1 }));
      assert.equal(counter.read(), first! + 1, 'a commit through Statements on another connection');
      await turnEnds();
    } finally {
      await q.destroy();
      db.close();
    }
  });

  it('never shares for a TLS socket, a request without a socket, or a server holding many connections', async () => {
    const db = walDb();
    const tlsSocket = new TLSSocket(new Socket());
    try {
      const counter = WalIndexCounter.of(db)!;
      for (const [what, socket, connections] of [['TLS', tlsSocket, 1], ['no socket', {}, 1], ['many connections', new Socket(), MAX_SHARING_CONNECTIONS]] as const) {
        requestArrived(socket, connections);
        const first = counter.read();
        commitElsewhere(db.name);
        assert.equal(counter.read(), first! + 1, `${what}: no turn opened`);
        await turnEnds();
      }
      // A TLS request ends a turn a plain one opened.
      requestArrived(new Socket(), 1);
      const first = counter.read();
      commitElsewhere(db.name);
      requestArrived(tlsSocket, 1);
      requestArrived(new Socket(), 1);
      assert.equal(counter.read(), first! + 1);
      await turnEnds();
    } finally {
      tlsSocket.destroy();
      db.close();
    }
  });
});
