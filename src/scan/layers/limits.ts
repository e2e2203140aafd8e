// Apart from the layer reader, which loads with the first scan job (issue 12).

/** Bounds that keep a hostile layer from exhausting memory or time; crossing one fails the image. */
export interface LayerLimits {
  /** Uncompressed bytes of one layer. */
  maxLayerBytes: number;
  /** Entries in one layer. */
  maxEntries: number;
  /** Bytes kept of one collected file (package databases, manifests). */
  maxFileBytes: number;
}

export const DEFAULT_LAYER_LIMITS: LayerLimits = { maxLayerBytes: 8 * 1024 ** 3, maxEntries: 1_000_000, maxFileBytes: 64 * 1024 ** 2 };
