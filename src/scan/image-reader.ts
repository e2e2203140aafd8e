import type { Digest } from '../core/digest.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { Inventory } from '../core/scanning.js';
import { buildInventory, wantFile } from './inventory/catalog.js';
import { probeExecutable } from './inventory/probe.js';
import { sniffCompression } from './layers/decompress.js';
import { MergedFilesystem } from './layers/merge.js';
import type { LayerLimits } from './layers/limits.js';
import { readLayer } from './layers/read-layer.js';
import { ScanError } from './scan-error.js';

/**
 * Reads an image's layers bottom-up through the blob store (streams only) and lists what is
 * installed. Throws `ScanError` for a missing, corrupt or hostile layer.
 */
export async function readInventory(layers: readonly Digest[], blobs: BlobStore, limits: LayerLimits, signal: AbortSignal): Promise<Inventory> {
  const fs = new MergedFilesystem();
  for (const layer of layers) {
    const st = await blobs.stat(layer, signal);
    if (!st) throw new ScanError(`layer ${layer} is missing from storage`);
    if (st.size === 0) continue;
    const headStream = await blobs.read(layer, { start: 0, end: Math.min(3, st.size - 1) }, signal);
    const head: Buffer[] = [];
    for await (const c of headStream) head.push(c as Buffer);
    const body = await blobs.read(layer, undefined, signal);
    const changes = await readLayer(body, sniffCompression(Buffer.concat(head)), layer, wantFile, (_p, s) => probeExecutable(s), limits, signal);
    fs.apply(changes);
  }
  return buildInventory(fs);
}
