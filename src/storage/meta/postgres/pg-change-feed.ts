import type { Client } from 'pg';
import { LocalChangeFeed } from '../../../core/local-change-feed.js';
import type { ChangeFeed, ChangeListener, ChangeTopic } from '../../../core/ports/change-feed.js';
import { leasePostgres, type PostgresHandle } from './open.js';

/** The one NOTIFY channel every node listens on; payload `<topic>\n<key>` (keys are short, far below 8000 bytes). */
export const CHANGE_CHANNEL = 'berth_changes';
const TOPICS: ReadonlySet<string> = new Set<ChangeTopic>(['policies', 'repository', 'manifest']);

export interface PgChangeFeedOptions {
  url: string;
  poolSize: number;
  /** Reports connection trouble (never throws into the caller). */
  onError?: (err: unknown) => void;
  /** First reconnect delay; doubles up to 5 s. */
  retryMs?: number;
}

/**
 * The change feed over PostgreSQL `LISTEN/NOTIFY`. Listening needs a connection of its own for the
 * process's lifetime (a pooled one would be handed to queries), so this holds a dedicated `pg.Client`;
 * publishing goes through the shared pool. When the listening connection drops, it reconnects with
 * backoff and then tells every listener "anything may have changed" (`undefined`), because the
 * notifications sent while it was away are gone for good.
 */
export class PgChangeFeed implements ChangeFeed {
  readonly #local = new LocalChangeFeed();
  #client: Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #connected: Promise<void> | undefined;

  private constructor(
    private readonly handle: PostgresHandle,
    private readonly opts: PgChangeFeedOptions,
    private readonly ClientCtor: typeof Client,
  ) {}

  /** Opens the feed; resolves once it listens. Throws when the database cannot be reached. */
  static async open(opts: PgChangeFeedOptions): Promise<PgChangeFeed> {
    const { default: pg } = await import('pg');
    const handle = await leasePostgres({ url: opts.url, poolSize: opts.poolSize });
    const feed = new PgChangeFeed(handle, opts, pg.Client);
    try {
      await feed.#connect();
    } catch (e) {
      await handle.close();
      throw e;
    }
    return feed;
  }

  async publish(topic: ChangeTopic, key: string): Promise<void> {
    if (this.#closed) throw new Error('change feed closed');
    await this.handle.pool.query('select pg_notify($1, $2)', [CHANGE_CHANNEL, `${topic}\n${key}`]);
  }

  subscribe(topic: ChangeTopic, listener: ChangeListener): () => void {
    return this.#local.subscribe(topic, listener);
  }

  /** The backend pid of the listening connection (tests end it to prove the reconnect). */
  get listenerPid(): number | undefined {
    return (this.#client as (Client & { processID?: number }) | undefined)?.processID;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
    await this.#local.close();
    await this.handle.close();
  }

  async #connect(): Promise<void> {
    const client = new this.ClientCtor({ connectionString: this.opts.url, keepAlive: true });
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGE_CHANNEL || !msg.payload) return;
      const nl = msg.payload.indexOf('\n');
      const topic = msg.payload.slice(0, nl);
      if (nl < 0 || !TOPICS.has(topic)) return;
      this.#local.deliver(topic as ChangeTopic, msg.payload.slice(nl + 1));
    });
    let lost = false;
    const onLost = (err?: unknown) => {
      // Before `connect()` settled, its rejection drives the retry; afterwards, this does.
      if (lost || this.#client !== client) return;
      lost = true;
      if (err) this.opts.onError?.(err);
      this.#client = undefined;
      void client.end().catch(() => {});
      this.#scheduleReconnect(this.opts.retryMs ?? 100);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    await client.connect();
    await client.query(`listen ${CHANGE_CHANNEL}`);
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#client = client;
  }

  #scheduleReconnect(delayMs: number): void {
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#closed) return;
      this.#connected = this.#connect().then(
        // Whatever was published while nobody listened is lost: every cache starts over.
        () => this.#local.deliverReset(),
        (err: unknown) => {
          this.opts.onError?.(err);
          this.#scheduleReconnect(Math.min(delayMs * 2, 5000));
        },
      );
    }, delayMs);
    this.#retry.unref();
  }

  /** Resolves after the reconnect in progress (if any) has settled; for tests. */
  async settled(): Promise<void> {
    await this.#connected;
  }
}
