import type { Digest } from './digest.js';
import type { RepoKey } from './repo-key.js';

/**
 * Domain events, emitted after the metadata transaction that caused them has committed. `repository`
 * is the repository's key (account and name); show `repoName(repository)` to people.
 */
export type DomainEvent =
  | { type: 'blob.pushed'; repository: RepoKey; digest: Digest; size: number; at: Date }
  | { type: 'manifest.pushed'; repository: RepoKey; digest: Digest; mediaType: string; tag?: string; at: Date }
  | { type: 'manifest.deleted'; repository: RepoKey; digest: Digest; tags: string[]; at: Date }
  | { type: 'tag.deleted'; repository: RepoKey; tag: string; at: Date }
  | { type: 'repository.created'; repository: RepoKey; at: Date }
  | { type: 'repository.deleted'; repository: RepoKey; at: Date }
  | { type: 'image.archived'; repository: RepoKey; digest: Digest; at: Date }
  | { type: 'image.restored'; repository: RepoKey; digest: Digest; at: Date }
  | { type: 'lifecycle.applied'; repository: RepoKey; expired: number; transitioned: number; at: Date }
  | { type: 'gc.completed'; blobsDeleted: number; bytesReclaimed: number; linksDeleted: number; uploadsSwept: number; at: Date }
  | {
    type: 'image.scanned'; accountId: string; repository: RepoKey; digest: Digest;
    status: 'COMPLETE' | 'FAILED'; findingSeverityCounts: Record<string, number>; at: Date;
  };

/** Feature modules (events, replication, scanning, metrics) subscribe here instead of importing each other. */
export interface EventBus {
  emit(event: DomainEvent): void;
  subscribe(listener: (event: DomainEvent) => void): () => void;
}

/** In-process bus; a listener that throws is isolated from the others and from the emitter. */
export class LocalEventBus implements EventBus {
  private readonly listeners = new Set<(event: DomainEvent) => void>();
  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}
  emit(event: DomainEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
  subscribe(listener: (event: DomainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
