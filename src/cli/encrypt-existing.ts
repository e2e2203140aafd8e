import { openEncryptedBackends } from '../app.js';
import type { Digest } from '../core/digest.js';
import type { EncryptionScope } from '../core/ports/blob-encryption.js';
import { kmsScopesReferencing } from '../core/services/blob-scopes.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/**
 * `berth encrypt-existing`: encrypts every blob still stored in plaintext (written before
 * encryption at rest existed), one at a time, each by an atomic in-place replace — so it is safe
 * while a server runs on the same data, and resumable: an interrupted run leaves each blob either
 * plaintext or encrypted, and the next run picks up the plaintext ones. Shows a progress line on a
 * terminal (hand-rolled: one `\r` line needs no dependency), a line per blob otherwise. With
 * `storage.redirect`, blobs only AES256 repositories reference stay plain objects (and are skipped).
 */
export async function encryptExistingCommand(flags: CommonFlags): Promise<void> {
  const config = await configFromFlags(flags);
  const { meta, blobs, close } = await openEncryptedBackends(config);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const out = process.stderr;
  const tty = out.isTTY === true;
  try {
    let todo: { digest: Digest; size: number }[] = [];
    for await (const b of blobs.list(controller.signal)) {
      if ((await blobs.isEncrypted(b.digest, controller.signal)) === false) todo.push(b);
    }
    // storage.redirect: AES256 repositories' blobs are plain objects on purpose (the object store
    // encrypts them, clients are redirected to them); only KMS repositories' blobs are converted.
    let scopes = new Map<Digest, EncryptionScope[]>();
    if (blobs.plainServiceScope) {
      scopes = await kmsScopesReferencing(meta, new Set(todo.map((b) => b.digest)), controller.signal);
      const kept = todo.length;
      todo = todo.filter((b) => scopes.has(b.digest));
      process.stdout.write(`storage.redirect is on: skipping ${kept - todo.length} plaintext blob(s) only AES256 repositories reference (encrypted at rest by the object store)\n`);
    }
    const total = todo.reduce((n, b) => n + b.size, 0);
    process.stdout.write(`${todo.length} plaintext blob(s), ${formatBytes(total)} to encrypt\n`);
    let done = 0;
    let bytes = 0;
    const started = Date.now();
    for (const b of todo) {
      if (controller.signal.aborted) break;
      const result = await blobs.encryptInPlace(b.digest, controller.signal, scopes.get(b.digest)?.[0]);
      done++;
      bytes += b.size;
      if (tty) {
        const pct = total ? Math.floor((bytes / total) * 100) : 100;
        const width = 30;
        const bar = '#'.repeat(Math.round((pct / 100) * width)).padEnd(width, '.');
        const rate = bytes / Math.max(0.001, (Date.now() - started) / 1000);
        out.write(`\r[${bar}] ${pct}% ${done}/${todo.length} blobs ${formatBytes(bytes)}/${formatBytes(total)} ${formatBytes(rate)}/s `);
      } else {
        out.write(`${result} ${b.digest} (${done}/${todo.length})\n`);
      }
    }
    if (tty) out.write('\n');
    process.stdout.write(controller.signal.aborted
      ? `interrupted after ${done} blob(s); run berth encrypt-existing again to continue\n`
      : `encrypted ${done} blob(s)\n`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await close();
  }
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
