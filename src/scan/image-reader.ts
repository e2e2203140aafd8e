import type { Digest } from '../core/digest.js';
import { parseManifest } from '../core/manifest.js';
import { isIndexMediaType, isNonDistributable, MediaType } from '../core/media-types.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { Inventory } from '../core/scanning.js';
import { buildInventory, wantFile } from './inventory/catalog.js';
import { probeGoBinary } from './inventory/go.js';
import { sniffCompression } from './layers/decompress.js';
import { MergedFilesystem } from './layers/merge.js';
import { readLayer, type LayerChanges, type LayerLimits } from './layers/read-layer.js';
import { ScanError } from './scan-error.js';

export type ImageKind = { kind: 'image'; layers: Digest[] } | { kind: 'index' } | { kind: 'artifact'; reason: string };

const IMAGE_CONFIGS: readonly string[] = [MediaType.OciConfig, MediaType.DockerConfig];

/** Whether a manifest is a container image berth can scan, an index, or some other artifact. */
export function classifyManifest(body: Uint8Array, mediaType: string): ImageKind {
  if (isIndexMediaType(mediaType)) return { kind: 'index' };
  const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as { config?: { mediaType?: string }; layers?: { mediaType: string; digest: string }[] };
  parseManifest(body, mediaType);
  const configType = parsed.config?.mediaType ?? '';
  if (!IMAGE_CONFIGS.includes(configType)) return { kind: 'artifact', reason: `config media type ${configType} is not a container image` };
  const layers: Digest[] = [];
  for (const l of parsed.layers ?? []) {
    if (isNonDistributable(l.mediaType)) continue;
    if (!/tar/.test(l.mediaType)) return { kind: 'artifact', reason: `layer media type ${l.mediaType} is not a tar archive` };
    layers.push(l.digest as Digest);
  }
  return { kind: 'image', layers };
}

/** Layers read at once: gunzip runs on libuv's thread pool, so layers decompress on several cores. */
const PARALLEL_LAYERS = 3;

/**
 * Reads an image's layers through the blob store (streams only; up to {@link PARALLEL_LAYERS} at
 * once, each kept only as the few files the scan wants) and applies them bottom-up, then lists
 * what is installed. Throws `ScanError` for a missing, corrupt or hostile layer.
 */
export async function readInventory(layers: readonly Digest[], blobs: BlobStore, limits: LayerLimits, signal: AbortSignal): Promise<Inventory> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const results: Promise<LayerChanges | undefined>[] = [];
  let next = 0;
  const readOne = async (layer: Digest): Promise<LayerChanges | undefined> => {
    const st = await blobs.stat(layer, stop.signal);
    if (!st) throw new ScanError(`layer ${layer} is missing from storage`);
    if (st.size === 0) return undefined;
    const headStream = await blobs.read(layer, { start: 0, end: Math.min(3, st.size - 1) }, stop.signal);
    const head: Buffer[] = [];
    for await (const c of headStream) head.push(c as Buffer);
    const body = await blobs.read(layer, undefined, stop.signal);
    return readLayer(body, sniffCompression(Buffer.concat(head)), layer, wantFile, (_p, s) => probeGoBinary(s), limits, stop.signal);
  };
  // Each slot takes the next unread layer when its previous one is done.
  const worker = async (): Promise<void> => {
    while (next < layers.length) {
      const i = next++;
      const p = readOne(layers[i]!);
      results[i] = p;
      await p;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PARALLEL_LAYERS, layers.length) }, worker));
    const fs = new MergedFilesystem();
    for (const r of results) {
      const changes = await r;
      if (changes) fs.apply(changes);
    }
    return buildInventory(fs);
  } catch (err) {
    // One bad layer ends the image: the others stop reading.
    stop.abort(err);
    for (const r of results) r?.catch(() => {});
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
