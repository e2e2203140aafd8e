import type { Digest } from './digest.js';

/** Domain events, emitted after the metadata transaction that caused them has committed. */
export type DomainEvent =
  | { type: 'blob.pushed'; repository: string; digest: Digest; size: number; at: Date }
  | { type: 'manifest.pushed'; repository: string; digest: Digest; mediaType: string; tag?: string; at: Date }
  | { type: 'manifest.deleted'; repository: string; digest: Digest; tags: string[]; at: Date }
  | { type: 'tag.deleted'; repository: string; tag: string; at: Date }
  | { type: 'repository.created'; repository: string; at: Date }
  | { type: 'repository.deleted'; repository: string; at: Date }
  | {
    type: 'image.scanned'; accountId: string; repository: string; digest: Digest;
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
