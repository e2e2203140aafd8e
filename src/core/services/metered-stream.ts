import { Transform, type TransformCallback } from 'node:stream';
import type { Hash } from 'node:crypto';
import { fail } from '../errors.js';

/**
 * A pass-through that feeds every chunk to `hash` (when given), counts bytes, and fails the
 * stream at its end when the count differs from `expected` — so a body shorter or longer than
 * the client declared (a truncated upload) never reaches a commit.
 */
export class MeteredStream extends Transform {
  bytes = 0;
  constructor(
    private readonly hash: Hash | undefined,
    private readonly expected: number | undefined,
    private readonly limit = Number.MAX_SAFE_INTEGER,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(fail('SizeInvalid', `upload exceeds the limit of ${this.limit} bytes`, { limit: this.limit }));
      return;
    }
    this.hash?.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.expected !== undefined && this.bytes !== this.expected) {
      done(fail('SizeInvalid', `received ${this.bytes} bytes but ${this.expected} were declared`, {
        received: this.bytes, declared: this.expected,
      }));
      return;
    }
    done();
  }
}
