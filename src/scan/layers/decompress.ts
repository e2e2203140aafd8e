import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { ScanError } from '../scan-error.js';

/** Layer compression, told by the first bytes rather than the media type (registries mislabel). */
export type Compression = 'gzip' | 'zstd' | 'none';

export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/**
 * zstd as a stream. Node 20's zlib has no zstd (it arrives in 22.15), so the pure-JS fzstd
 * decoder does the work; it has no native code to build.
 */
function zstdStream(): Transform {
  // The decoder is made first and pushes into `t` through this late-bound reference.
  const out: { t?: Transform } = {};
  const decoder = new Decompress((chunk) => out.t?.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  const t: Transform = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      try {
        decoder.push(chunk);
        done();
      } catch (err) {
        done(new ScanError(`zstd layer is corrupt: ${(err as Error).message}`));
      }
    },
    flush(done: TransformCallback) {
      try {
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (err) {
        done(new ScanError(`zstd layer is corrupt: ${(err as Error).message}`));
      }
    },
  });
  out.t = t;
  return t;
}

/** The decompressor for `c`, or `undefined` for a plain tar. */
export function decompressor(c: Compression): Transform | undefined {
  if (c === 'gzip') return createGunzip({ chunkSize: 256 * 1024 });
  if (c === 'zstd') return zstdStream();
  return undefined;
}

/** Passes bytes through and fails the stream once more than `max` went by (decompression bombs). */
export function byteLimit(max: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      seen += chunk.length;
      if (seen > max) done(new ScanError(`${what} is larger than the limit of ${max} bytes uncompressed`));
      else done(null, chunk);
    },
  });
}
