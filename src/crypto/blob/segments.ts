import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { fail } from '../../core/errors.js';

/**
 * Segmented AES-256-GCM for blobs at rest: the plaintext is cut into fixed-size segments, each
 * sealed on its own, so a byte range decrypts by reading only the segments it covers. Layout of a
 * stored object (an "envelope"):
 *
 * ```
 *  header (32 bytes)
 *    [8: "BRTHENC1"][1: log2(segment size)][7: zero][16: data key id]
 *  segment i, for i = 0 … n-1
 *    [12: random nonce][ciphertext: S bytes, or 0 … S-1 for the last][16: GCM tag]
 *    associated data = header ‖ uint64be(i) ‖ last ? 0x01 : 0x00
 * ```
 *
 * Every object ends with exactly one segment marked last, holding `size mod S` bytes (possibly
 * none), so the plaintext size follows from the object size and vice versa. Binding the header,
 * the index and the last flag into each tag detects a flipped bit, a swapped or spliced segment,
 * and truncation (the new apparent last segment was sealed "not last"). Nonces are random, not
 * counters: a staged upload re-seals its trailing segment when the next chunk arrives, and a
 * counter would then repeat a nonce under the same key. Segments are 64 KiB as in age (a
 * range costs at most two extra segments; per-segment cost is ~0.05 %).
 */
export const MAGIC = Buffer.from('BRTHENC1', 'latin1');
export const HEADER_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const OVERHEAD = NONCE_BYTES + TAG_BYTES;
export const SEGMENT_LOG2 = 16;
export const SEGMENT_BYTES = 1 << SEGMENT_LOG2;

/** The 32-byte header for a data key id (16 bytes). */
export function buildHeader(keyId: Buffer, segmentLog2 = SEGMENT_LOG2): Buffer {
  if (keyId.length !== 16) throw new Error('data key id must be 16 bytes');
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h[8] = segmentLog2;
  keyId.copy(h, 16);
  return h;
}

/** Parses a header; `undefined` when `bytes` does not start with one (e.g. a plaintext blob). */
export function parseHeader(bytes: Buffer): { keyId: Buffer; segmentBytes: number; header: Buffer } | undefined {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, 8).equals(MAGIC)) return undefined;
  const log2 = bytes[8]!;
  if (log2 < 10 || log2 > 24 || bytes.subarray(9, 16).some((b) => b !== 0)) return undefined;
  return { keyId: Buffer.from(bytes.subarray(16, 32)), segmentBytes: 1 << log2, header: Buffer.from(bytes.subarray(0, HEADER_BYTES)) };
}

/** Stored object size for a plaintext of `size` bytes. */
export function cipherSize(size: number, segmentBytes = SEGMENT_BYTES): number {
  return HEADER_BYTES + Math.floor(size / segmentBytes) * (segmentBytes + OVERHEAD) + (size % segmentBytes) + OVERHEAD;
}

/** Plaintext size of a stored object of `stored` bytes; `undefined` when no plaintext size maps to it (truncated). */
export function plainSize(stored: number, segmentBytes = SEGMENT_BYTES): number | undefined {
  const body = stored - HEADER_BYTES;
  if (body < OVERHEAD) return undefined;
  const full = Math.floor(body / (segmentBytes + OVERHEAD));
  const rest = body - full * (segmentBytes + OVERHEAD) - OVERHEAD;
  if (rest < 0 || rest >= segmentBytes) return undefined;
  return full * segmentBytes + rest;
}

/** Byte offset in the stored object where segment `index` starts. */
export function segmentOffset(index: number, segmentBytes = SEGMENT_BYTES): number {
  return HEADER_BYTES + index * (segmentBytes + OVERHEAD);
}

function aad(header: Buffer, index: number, last: boolean): Buffer {
  const a = Buffer.alloc(HEADER_BYTES + 9);
  header.copy(a, 0);
  a.writeBigUInt64BE(BigInt(index), HEADER_BYTES);
  a[HEADER_BYTES + 8] = last ? 1 : 0;
  return a;
}

/** Seals one segment (used for the re-sealed tail of an upload and by tests). */
export function sealSegment(key: Buffer, header: Buffer, index: number, last: boolean, plain: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad(header, index, last));
  return Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
}

/** Opens one sealed segment; throws `Internal` (never returns wrong bytes) when it does not authenticate. */
export function openSegment(key: Buffer, header: Buffer, index: number, last: boolean, sealed: Buffer, what: string): Buffer {
  if (sealed.length < OVERHEAD) throw corrupt(what, index);
  try {
    const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    d.setAAD(aad(header, index, last));
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const out = d.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
    d.final();
    return out;
  } catch {
    throw corrupt(what, index);
  }
}

function corrupt(what: string, index: number): Error {
  return fail('Internal', `encrypted blob ${what} failed authentication at segment ${index} (tampered, truncated or reordered); run berth fsck`, { what, segment: index });
}

/**
 * Encrypting transform: plaintext in, segments out, starting at segment `firstIndex` (the header,
 * if wanted, is written by the caller). A full segment is never the last one (the last holds
 * `size mod S` bytes), so a segment is sealed as soon as S bytes are in; the remainder is sealed
 * as last at the end. Input chunks are held by reference until their segment is sealed (no copy).
 */
export class SegmentSealer extends Transform {
  #pending: Buffer[] = [];
  #filled = 0;
  #index: number;

  /** `prefix`: plaintext already in segment `firstIndex` (re-sealed with what follows); `emitHeader`: write the header first. */
  constructor(private readonly key: Buffer, private readonly header: Buffer, firstIndex: number, prefix?: Buffer, emitHeader = false) {
    super({ highWaterMark: 1 << 20 });
    this.#index = firstIndex;
    if (emitHeader) this.push(header);
    if (prefix?.length) {
      this.#pending.push(prefix);
      this.#filled = prefix.length;
    }
  }

  #seal(last: boolean): void {
    const nonce = randomBytes(NONCE_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(aad(this.header, this.#index, last));
    this.push(nonce);
    for (const part of this.#pending) this.push(c.update(part));
    const fin = c.final();
    if (fin.length) this.push(fin);
    this.push(c.getAuthTag());
    this.#pending = [];
    this.#filled = 0;
    this.#index++;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(SEGMENT_BYTES - this.#filled, chunk.length - at);
      this.#pending.push(take === chunk.length ? chunk : chunk.subarray(at, at + take));
      this.#filled += take;
      at += take;
      if (this.#filled === SEGMENT_BYTES) this.#seal(false);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.#seal(true);
    done();
  }
}

/**
 * Decrypts a run of stored segments fed in arbitrary chunks (which may be reused buffers: partial
 * segments are copied out). Emits plaintext trimmed to `[skip, skip + length)` of the run.
 * `lastIndex` is the index of the object's last segment, so the last flag checked is the truth.
 */
export class SegmentOpener {
  readonly #assembly: Buffer;
  #have = 0;
  #index: number;
  #skip: number;
  #left: number;

  constructor(
    private readonly key: Buffer,
    private readonly header: Buffer,
    private readonly segmentBytes: number,
    firstIndex: number,
    private readonly lastIndex: number,
    skip: number,
    length: number,
    private readonly what: string,
  ) {
    this.#assembly = Buffer.allocUnsafe(segmentBytes + OVERHEAD);
    this.#index = firstIndex;
    this.#skip = skip;
    this.#left = length;
  }

  /** Plaintext pieces completed by `chunk` (fresh buffers, safe to keep). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length && this.#left > 0) {
      const want = this.#sealedLength(this.#index);
      if (this.#have === 0 && chunk.length - at >= want) {
        this.#emit(chunk.subarray(at, at + want), out);
        at += want;
        continue;
      }
      const take = Math.min(want - this.#have, chunk.length - at);
      chunk.copy(this.#assembly, this.#have, at, at + take);
      this.#have += take;
      at += take;
      if (this.#have === want) {
        this.#emit(this.#assembly.subarray(0, want), out);
        this.#have = 0;
      }
    }
    return out;
  }

  /** Throws `Internal` when the stored bytes ended before the requested plaintext was produced. */
  end(): void {
    if (this.#left > 0) throw fail('Internal', `encrypted blob ${this.what} is shorter than recorded (truncated); run berth fsck`, { what: this.what, segment: this.#index });
  }

  /** Stored length of segment `i`: full, except the last one, which is as long as what is left of the object. */
  #sealedLength(i: number): number {
    if (i < this.lastIndex) return this.segmentBytes + OVERHEAD;
    // The last segment's length is unknown from the index alone; the caller fed exactly the object's
    // bytes, so whatever remains after the header-aligned full segments is it (checked by GCM).
    return this.#lastSealed;
  }

  #lastSealed = OVERHEAD;

  /** Sets the stored length of the last segment (`size mod S` + overhead). */
  setLastPlainLength(n: number): this {
    this.#lastSealed = n + OVERHEAD;
    return this;
  }

  #emit(sealed: Buffer, out: Buffer[]): void {
    let plain = openSegment(this.key, this.header, this.#index, this.#index === this.lastIndex, sealed, this.what);
    this.#index++;
    if (this.#skip > 0) {
      const s = Math.min(this.#skip, plain.length);
      plain = plain.subarray(s);
      this.#skip -= s;
    }
    if (plain.length > this.#left) plain = plain.subarray(0, this.#left);
    this.#left -= plain.length;
    if (plain.length) out.push(plain);
  }
}
