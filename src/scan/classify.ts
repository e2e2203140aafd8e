import type { Digest } from '../core/digest.js';
import { parseManifest } from '../core/manifest.js';
import { isIndexMediaType, isNonDistributable, MediaType } from '../core/media-types.js';

// Apart from the layer reader (image-reader.ts) so that deciding whether an image can be scanned,
// at every push, does not load the scanning engine, which loads with the first scan job (issue 12).

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
