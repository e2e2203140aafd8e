import { fstatSync, openSync, readSync, statSync, closeSync } from 'node:fs';
import { resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { sharingToken } from './shared-reads.js';

/**
 * The transaction counter of a WAL database, read from its wal-index (the `-shm` file) without a
 * lock: one `pread` of 96 bytes, where `PRAGMA data_version` takes SQLite's WAL read lock (several
 * `fcntl` calls, contended by every worker reading the same file — ~15 % of a manifest GET's CPU
 * with two workers, issue 12).
 *
 * The format is SQLite's (https://sqlite.org/walformat.html, unchanged since 3.7.0): the file starts
 * with two copies of a 48-byte header whose `iChange` (u32 at offset 8) every commit increments.
 * A committer writes copy 2, then (after a memory barrier) copy 1, before its commit returns; SQLite's
 * own readers compare the two copies without a lock, and so does this: copies that differ, or an
 * uninitialised header, read as "unknown" and the caller treats that as a change. Hand-written
 * because no library reads it (better-sqlite3 exposes no `SQLITE_FCNTL_DATA_VERSION`).
 *
 * Descriptors are shared per `-shm` inode and never closed while it exists: closing any descriptor
 * of a file drops every POSIX lock this process holds on it (SQLite's "How To Corrupt" §2.2), and the
 * process's SQLite connections hold their WAL locks on this very file.
 */
export class WalIndexCounter {
  readonly #buf = Buffer.alloc(HEADER_BYTES * 2);
  /** The last value read and the sharing token it was read under ({@link sharingToken}). */
  #value: number | undefined;
  #token = 0;

  private constructor(private readonly fd: number) {}

  /**
   * The counter of `sqlite`'s wal-index, or `undefined` when it has none to read (an in-memory
   * database, a journal mode other than WAL, exclusive locking, an unknown wal-index version).
   */
  static of(sqlite: BetterSqlite3.Database): WalIndexCounter | undefined {
    if (sqlite.memory) return undefined;
    if (String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined;
    if (String(sqlite.pragma('locking_mode', { simple: true })).toLowerCase() !== 'normal') return undefined;
    // The journal-mode read above mapped the wal-index, so the file exists while `sqlite` is open.
    const fd = sharedDescriptor(`${resolve(sqlite.name)}-shm`);
    if (fd === undefined) return undefined;
    const counter = new WalIndexCounter(fd);
    return counter.read() === undefined ? undefined : counter;
  }

  /**
   * The wal-index's transaction counter, or `undefined` when a commit is writing it right now. Read
   * from the file, or the value read earlier in the same turn when it may be shared (shared-reads.ts).
   */
  read(): number | undefined {
    const token = sharingToken();
    if (token !== 0 && token === this.#token) return this.#value;
    const n = readSync(this.fd, this.#buf, 0, this.#buf.length, 0);
    const value = n === this.#buf.length ? walIndexChange(this.#buf) : undefined;
    this.#value = value;
    this.#token = value === undefined ? 0 : token;
    return value;
  }
}

const HEADER_BYTES = 48;
/** `iVersion` of every wal-index SQLite has written since 3.7.0. */
const WAL_INDEX_VERSION = 3007000;

/**
 * `iChange` of a wal-index's first 96 bytes (both header copies), or `undefined` when the copies
 * differ (a commit is between its two writes) or the header is not initialised or not a version
 * this reads. Fields are in the host's byte order, as SQLite writes them.
 */
export function walIndexChange(bytes: Buffer): number | undefined {
  if (bytes.length < HEADER_BYTES * 2) return undefined;
  if (bytes.compare(bytes, HEADER_BYTES, HEADER_BYTES * 2, 0, HEADER_BYTES) !== 0) return undefined;
  const le = isLittleEndian;
  const version = le ? bytes.readUInt32LE(0) : bytes.readUInt32BE(0);
  if (version !== WAL_INDEX_VERSION || bytes[12] !== 1) return undefined;
  return le ? bytes.readUInt32LE(8) : bytes.readUInt32BE(8);
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Open descriptors by `dev:ino` of the `-shm` file they read. */
const descriptors = new Map<string, number>();

function sharedDescriptor(path: string): number | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  const key = `${st.dev}:${st.ino}`;
  const known = descriptors.get(key);
  if (known !== undefined) return known;
  sweepUnlinked();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  const opened = fstatSync(fd);
  if (`${opened.dev}:${opened.ino}` !== key) {
    // Replaced between the stat and the open: the file SQLite maps is no longer known for sure.
    // Kept open (and under its own inode) rather than closed, for the reason in the class comment.
    descriptors.set(`${opened.dev}:${opened.ino}`, fd);
    return undefined;
  }
  descriptors.set(key, fd);
  return fd;
}

/**
 * Closes descriptors of `-shm` files that have been deleted: SQLite deletes one only when the last
 * connection to the database closes, so no connection of this process holds a lock there any more.
 * Bounds what a process that opens many databases over its life (a test run) keeps open.
 */
function sweepUnlinked(): void {
  for (const [key, fd] of descriptors) {
    if (fstatSync(fd).nlink === 0) {
      descriptors.delete(key);
      closeSync(fd);
    }
  }
}
