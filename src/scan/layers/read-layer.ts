import { once } from 'node:events';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { extract, type Extract } from 'tar-stream';
import type { Digest } from '../../core/digest.js';
import { ScanError } from '../scan-error.js';
import { byteLimit, decompressor, type Compression } from './decompress.js';
import type { LayerLimits } from './limits.js';

/** What to do with a regular file: keep its bytes, hand its stream to a probe, or skip it. */
export type Want = 'collect' | 'probe' | 'skip';

/** A probe reads a file's stream (e.g. looking for Go build info) and returns bytes to keep. */
export type Probe = (path: string, body: AsyncIterable<Buffer>) => Promise<Buffer | undefined>;

/** Everything a layer says about the files a scan cares about. */
export interface LayerChanges {
  layer: Digest;
  /** Regular files kept, by normalised path. */
  files: Map<string, Buffer>;
  /** Hard links to files, path → target path. */
  hardlinks: Map<string, string>;
  symlinks: Map<string, string>;
  /** Every path this layer writes (a write hides a lower layer's file of that path). */
  written: Set<string>;
  /** Paths removed (`.wh.<name>`) and directories made opaque (`.wh..wh..opq`). */
  whiteouts: string[];
  opaque: string[];
  /** Kept-worthy files skipped for size, so the inventory can say so. */
  oversized: string[];
}

/**
 * A tar member's name as a path relative to the root: `./a//b` → `a/b`. Throws `ScanError` when
 * the name climbs out of the root (`../`), which no image builder writes.
 */
export function normalizeEntryPath(name: string, layer: Digest): string {
  const p = posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
  if (posix.normalize(name.replace(/^\/+/, '')).startsWith('..')) {
    throw new ScanError(`layer ${layer} has an entry that escapes the root: ${JSON.stringify(name.slice(0, 200))}`);
  }
  return p;
}

/** One tar member as tar-stream yields it (a streamx readable with its header). */
type Entry = Extract extends AsyncIterable<infer S> ? S : never;

async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of entry) { /* skipped bytes */ }
}

async function collect(entry: AsyncIterable<unknown>, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const u of entry) {
    const c = u as Buffer;
    size += c.length;
    if (size <= max) chunks.push(c);
  }
  return size <= max ? Buffer.concat(chunks) : undefined;
}

/**
 * Reads one layer blob as a stream (never unpacked to disk): decompresses, bounds the size and
 * entry count, and keeps the files `want` asks for. Throws `ScanError` for a corrupt or hostile
 * layer.
 */
export async function readLayer(
  body: Readable, compression: Compression, layer: Digest, want: (path: string, executable: boolean) => Want,
  probe: Probe, limits: LayerLimits, signal: AbortSignal,
): Promise<LayerChanges> {
  const changes: LayerChanges = {
    layer, files: new Map(), hardlinks: new Map(), symlinks: new Map(), written: new Set(), whiteouts: [], opaque: [], oversized: [],
  };
  const tar = extract();
  let entries = 0;
  const consume = (async () => {
    for await (const entry of tar as AsyncIterable<Entry>) {
      signal.throwIfAborted();
      if (++entries > limits.maxEntries) throw new ScanError(`layer ${layer} has more than ${limits.maxEntries} entries`);
      const h = entry.header;
      const path = normalizeEntryPath(h.name, layer);
      const base = posix.basename(path);
      if (base.startsWith('.wh.')) {
        const dir = posix.dirname(path);
        if (base === '.wh..wh..opq') changes.opaque.push(dir === '.' ? '' : dir);
        else changes.whiteouts.push(posix.join(dir === '.' ? '' : dir, base.slice(4)));
        await drain(entry);
        continue;
      }
      changes.written.add(path);
      if (h.type === 'symlink' && h.linkname) changes.symlinks.set(path, h.linkname);
      else if (h.type === 'link' && h.linkname) changes.hardlinks.set(path, normalizeEntryPath(h.linkname, layer));
      else if (h.type === 'file' || h.type === 'contiguous-file') {
        const w = want(path, ((h.mode ?? 0) & 0o111) !== 0);
        if (w === 'collect') {
          const data = await collect(entry, limits.maxFileBytes);
          if (data) changes.files.set(path, data);
          else changes.oversized.push(path);
          continue;
        }
        if (w === 'probe') {
          const data = await probe(path, entry as AsyncIterable<unknown> as AsyncIterable<Buffer>);
          if (data) changes.files.set(path, data);
          await drain(entry);
          continue;
        }
      }
      await drain(entry);
    }
  })();
  // tar-stream is a streamx stream, so the node pipeline ends in a function that feeds it with
  // back-pressure; an abort (a failed entry, the caller) tears every stage down.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const feed = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      if (!tar.write(chunk)) await once(tar as unknown as NodeJS.EventEmitter, 'drain', { signal: stop.signal });
    }
    tar.end(undefined);
  };
  const d = decompressor(compression);
  const limit = byteLimit(limits.maxLayerBytes, `layer ${layer}`);
  const piping = d ? pipeline(body, d, limit, feed, { signal: stop.signal }) : pipeline(body, limit, feed, { signal: stop.signal });
  try {
    await Promise.all([piping, consume.catch((err: unknown) => {
      stop.abort(err);
      throw err;
    })]);
  } catch (err) {
    stop.abort(err);
    tar.destroy();
    piping.catch(() => {});
    consume.catch(() => {});
    if (err instanceof ScanError || signal.aborted) throw err;
    throw new ScanError(`layer ${layer} could not be read: ${(err as Error).message}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return changes;
}
