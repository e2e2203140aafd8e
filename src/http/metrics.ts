import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventBus } from '../core/events.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Low-cardinality route label for metrics (set by surfaces that route by hand, e.g. OCI). */
    routeLabel?: string;
    /** Socket counters when the request started, for bytes in/out without touching the body stream. */
    socketMark?: { read: number; written: number; at: bigint };
  }
}

/** Responses of one route, method and status not yet folded into the counters (see Metrics.#count). */
interface PendingCounts {
  readonly method: string;
  readonly status: number;
  requests: number;
  /** Whether any of them had socket marks (bytes counted). */
  measured: boolean;
  bytesIn: number;
  bytesOut: number;
}

/**
 * When the default process metrics start: after a serving process has taken its code cache (a second
 * after it listens; src/cli/code-cache-hook.ts), so their code (prom-client's collectors and
 * @opentelemetry/api, ~130 functions) is not in the cache every start deserialises.
 */
const DEFAULT_METRICS_AFTER_MS = 3000;

/** Prometheus metrics of one process. */
export class Metrics {
  readonly registry = new Registry();
  // The three per-response counters are folded in when a scrape collects them (#flush).
  readonly requests = new Counter({ name: 'berth_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [this.registry], collect: () => this.#flush() });
  readonly duration = new Histogram({ name: 'berth_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['route', 'method'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120], registers: [this.registry] });
  readonly bytesIn = new Counter({ name: 'berth_http_received_bytes_total', help: 'Bytes received (request line, headers and body)', labelNames: ['route'], registers: [this.registry], collect: () => this.#flush() });
  readonly bytesOut = new Counter({ name: 'berth_http_sent_bytes_total', help: 'Bytes sent (status line, headers and body)', labelNames: ['route'], registers: [this.registry], collect: () => this.#flush() });
  readonly uploadDuration = new Histogram({ name: 'berth_blob_upload_duration_seconds', help: 'Duration of upload requests that carry blob bytes (POST/PATCH/PUT)', labelNames: ['kind'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300], registers: [this.registry] });
  readonly events = new Counter({ name: 'berth_events_total', help: 'Domain events by type', labelNames: ['type'], registers: [this.registry] });

  readonly gcBytes = new Counter({ name: 'berth_gc_reclaimed_bytes_total', help: 'Bytes of blobs garbage collection deleted', registers: [this.registry] });
  readonly gcBlobs = new Counter({ name: 'berth_gc_deleted_blobs_total', help: 'Blobs garbage collection deleted', registers: [this.registry] });
  readonly gcUploads = new Counter({ name: 'berth_gc_swept_uploads_total', help: 'Abandoned upload sessions garbage collection swept', registers: [this.registry] });
  readonly gcLastRun = new Gauge({ name: 'berth_gc_last_run_timestamp_seconds', help: 'When the last garbage collection of this process finished', registers: [this.registry] });
  readonly gcLastBytes = new Gauge({ name: 'berth_gc_last_run_reclaimed_bytes', help: 'Bytes the last garbage collection of this process deleted', registers: [this.registry] });
  readonly lifecycleExpired = new Counter({ name: 'berth_lifecycle_expired_images_total', help: 'Images lifecycle policies expired', registers: [this.registry] });
  readonly lifecycleArchived = new Counter({ name: 'berth_lifecycle_archived_images_total', help: 'Images lifecycle policies moved to the archive class', registers: [this.registry] });

  #defaults = false;
  /** By route: responses counted since the last #flush. */
  readonly #pending = new Map<string, PendingCounts[]>();

  constructor() {
    // The process metrics (CPU, memory, event-loop lag, GC) start later, not on the start path (~5 %
    // of a server start, issue 12), or at the first scrape if that comes first.
    setTimeout(() => this.collectDefaults(), DEFAULT_METRICS_AFTER_MS).unref();
  }

  /** Starts collecting the default process metrics (once). */
  collectDefaults(): void {
    if (this.#defaults) return;
    this.#defaults = true;
    collectDefaultMetrics({ register: this.registry, prefix: 'berth_' });
  }

  /** Counts every response; socket deltas give bytes without reading the body stream twice. */
  install(app: FastifyInstance, bus: EventBus): void {
    bus.subscribe((e) => {
      this.events.inc({ type: e.type });
      if (e.type === 'gc.completed') {
        this.gcBytes.inc(e.bytesReclaimed);
        this.gcBlobs.inc(e.blobsDeleted);
        this.gcUploads.inc(e.uploadsSwept);
        this.gcLastRun.set(e.at.getTime() / 1000);
        this.gcLastBytes.set(e.bytesReclaimed);
      } else if (e.type === 'lifecycle.applied') {
        this.lifecycleExpired.inc(e.expired);
        this.lifecycleArchived.inc(e.transitioned);
      }
    });
    // Callback-style hooks: no promise per request (see server.ts).
    app.addHook('onRequest', (req, _reply, done) => {
      const s = req.raw.socket;
      req.socketMark = { read: s.bytesRead, written: s.bytesWritten, at: process.hrtime.bigint() };
      done();
    });
    app.addHook('onResponse', (req, reply, done) => {
      this.#count(req, reply.statusCode);
      done();
    });
  }

  #count(req: FastifyRequest, statusCode: number): void {
    const route = req.routeLabel ?? req.routeOptions.url ?? 'unmatched';
    const method = req.method;
    const pending = this.#pendingOf(route, method, statusCode);
    pending.requests++;
    const mark = req.socketMark;
    if (!mark) return;
    const seconds = Number(process.hrtime.bigint() - mark.at) / 1e9;
    this.duration.observe({ route, method }, seconds);
    const s = req.raw.socket;
    pending.measured = true;
    pending.bytesIn += Math.max(0, s.bytesRead - mark.read);
    pending.bytesOut += Math.max(0, s.bytesWritten - mark.written);
    if (route.startsWith('uploads') && method !== 'GET' && method !== 'DELETE') {
      this.uploadDuration.observe({ kind: method === 'POST' ? 'monolithic' : method === 'PATCH' ? 'chunk' : 'complete' }, seconds);
    }
  }

  /**
   * The response counts of one route, method and status since the last scrape. Counting a response
   * is then one lookup and three additions (no allocation); prom-client's labelled `inc` hashes and
   * validates its label object on every call, three calls per response (~2 % of a manifest GET's
   * CPU, issue 12). Scrapes see the same values: collecting any of the three counters folds
   * everything pending into them first.
   */
  #pendingOf(route: string, method: string, status: number): PendingCounts {
    let list = this.#pending.get(route);
    if (!list) this.#pending.set(route, (list = []));
    for (const p of list) if (p.status === status && p.method === method) return p;
    const fresh: PendingCounts = { method, status, requests: 0, measured: false, bytesIn: 0, bytesOut: 0 };
    list.push(fresh);
    return fresh;
  }

  #flush(): void {
    for (const [route, list] of this.#pending) {
      for (const p of list) {
        this.requests.inc({ route, method: p.method, status: String(p.status) }, p.requests);
        if (!p.measured) continue;
        this.bytesIn.inc({ route }, p.bytesIn);
        this.bytesOut.inc({ route }, p.bytesOut);
      }
    }
    this.#pending.clear();
  }
}
