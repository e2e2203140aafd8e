// One generated random file backs every large-blob push. Each push appends a fresh 32-byte
// suffix so no server can short-circuit an already-stored digest; the digest of file+suffix
// comes from a copy of the file's hash state, so no timed section ever hashes.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

export interface BlobSource {
  readonly path: string;
  /** Bytes per push (file plus suffix). */
  readonly size: number;
  /** A new unique blob: its digest (computed now) and a factory for its byte stream. */
  next(): { digest: string; stream: () => Readable };
}

const SUFFIX = 32;

export async function createBlobSource(workDir: string, mib: number): Promise<BlobSource> {
  const path = join(workDir, `blob-${mib}MiB.bin`);
  const fileBytes = mib * MiB - SUFFIX;
  const hash: Hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let left = fileBytes; left > 0; left -= CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, left));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
  return {
    path,
    size: fileBytes + SUFFIX,
    next() {
      const suffix = randomBytes(SUFFIX);
      const digest = `sha256:${hash.copy().update(suffix).digest('hex')}`;
      const stream = (): Readable =>
        Readable.from(
          (async function* (): AsyncGenerator<Buffer> {
            for await (const chunk of createReadStream(path, { highWaterMark: MiB })) yield chunk as Buffer;
            yield suffix;
          })(),
          { objectMode: false, highWaterMark: MiB },
        );
      return { digest, stream };
    },
  };
}
