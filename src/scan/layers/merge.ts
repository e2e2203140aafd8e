import { posix } from 'node:path';
import type { Digest } from '../../core/digest.js';
import type { LayerChanges } from './read-layer.js';

/** A kept file of the merged image filesystem with the layer that last wrote it. */
export interface MergedFile {
  data: Buffer;
  layer: Digest;
}

const under = (path: string, dir: string): boolean => dir === '' || path === dir || path.startsWith(`${dir}/`);

/**
 * The image filesystem as the container would see it, restricted to the kept files: layers are
 * applied bottom-up with OCI whiteouts (`.wh.<name>` removes, `.wh..wh..opq` hides a lower
 * directory's contents) and any write hiding a lower file of the same path.
 */
export class MergedFilesystem {
  readonly files = new Map<string, MergedFile>();
  readonly symlinks = new Map<string, string>();
  readonly oversized = new Set<string>();

  apply(c: LayerChanges): void {
    // Whiteouts and opaque markers apply to lower layers only: remove first, then add.
    const removeUnder = (dir: string): void => {
      for (const map of [this.files, this.symlinks] as Map<string, unknown>[]) {
        for (const p of [...map.keys()]) if (under(p, dir)) map.delete(p);
      }
      for (const p of [...this.oversized]) if (under(p, dir)) this.oversized.delete(p);
    };
    for (const dir of c.opaque) removeUnder(dir);
    for (const p of c.whiteouts) removeUnder(p);
    for (const p of c.written) {
      this.files.delete(p);
      this.symlinks.delete(p);
      this.oversized.delete(p);
    }
    for (const [p, data] of c.files) this.files.set(p, { data, layer: c.layer });
    for (const [p, target] of c.symlinks) this.symlinks.set(p, target);
    for (const p of c.oversized) this.oversized.add(p);
    // A hard link names a file of the same layer or a lower one; its bytes are that file's.
    for (const [p, target] of c.hardlinks) {
      const data = c.files.get(target) ?? this.files.get(target)?.data;
      if (data) this.files.set(p, { data, layer: c.layer });
    }
  }

  /** The file at `path`, following symbolic links (at most 16, like the kernel's limit of 40 but smaller). */
  read(path: string): MergedFile | undefined {
    let p = path;
    for (let i = 0; i < 16; i++) {
      const f = this.files.get(p);
      if (f) return f;
      const link = this.symlinks.get(p);
      if (link === undefined) return undefined;
      p = posix.normalize(link.startsWith('/') ? link.slice(1) : posix.join(posix.dirname(p), link)).replace(/^(\.\.\/)+/, '');
    }
    return undefined;
  }
}
