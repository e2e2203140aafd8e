/**
 * Several berth nodes behind HAProxy (Debian `haproxy`, round-robin on loopback), for the
 * scale-out tests and benchmark (issue 11).
 *
 * ```
 *   client (skopeo, podman, aws, fetch) ──► haproxy 127.0.0.1:<lb>  (roundrobin, GET /readyz checks)
 *                                             ├─► berth node 1  127.0.0.1:<p1>
 *                                             ├─► berth node 2  127.0.0.1:<p2>
 *                                             └─► berth node 3  127.0.0.1:<p3>
 *   backend: PostgreSQL + S3 (fresh database and bucket) when BERTH_E2E_POSTGRES_URL and
 *            BERTH_E2E_S3_ENDPOINT are set; else one SQLite data directory shared by every node.
 * ```
 *
 * Every node gets the same BERTH_MASTER_KEY and a root key preset through BERTH_ROOT_*, as an
 * operator's nodes would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freshPostgres, freshS3, type TestPostgres } from '../support/servers.js';
import { BERTH_ARGS, BerthServer, freePort, hermeticEnv, makeTempDir, run, sleep, type RunResult } from './harness.js';

export type ClusterKind = 'postgres+s3' | 'sqlite';

export interface ClusterOptions {
  nodes?: number;
  /** Force the embedded backend even when the servers are configured (benchmarks compare both). */
  kind?: ClusterKind;
  /** Extra environment for every node (e.g. BERTH_LOG_LEVEL=error for benchmarks). */
  env?: NodeJS.ProcessEnv;
}

/** Which backend a cluster gets here: PostgreSQL + S3 when the test servers are configured. */
export function clusterKind(): ClusterKind {
  return process.env.BERTH_E2E_POSTGRES_URL && process.env.BERTH_E2E_S3_ENDPOINT ? 'postgres+s3' : 'sqlite';
}

const base32 = (n: number) => Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');

export class Cluster {
  readonly nodes: BerthServer[] = [];
  lbPort = 0;
  /** `AWS:<password>` login for the balancer's host (registry tokens verify on every node). */
  password = '';
  #haproxy: ChildProcess | undefined;
  #pg: TestPostgres | undefined;

  private constructor(
    readonly kind: ClusterKind,
    readonly root: string,
    readonly env: NodeJS.ProcessEnv,
    readonly rootKey: { accessKeyId: string; secretAccessKey: string },
  ) {}

  get host(): string {
    return `127.0.0.1:${this.lbPort}`;
  }

  get url(): string {
    return `http://${this.host}`;
  }

  get authFile(): string {
    return join(this.root, 'auth.json');
  }

  get haproxyLog(): string {
    return join(this.root, 'haproxy.log');
  }

  get authorization(): string {
    return `Basic ${Buffer.from(`AWS:${this.password}`).toString('base64')}`;
  }

  /** Data directory of node `i` (all the same on SQLite). */
  dataDir(i: number): string {
    return this.kind === 'sqlite' ? join(this.root, 'data') : join(this.root, `data-${i}`);
  }

  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const kind = opts.kind ?? clusterKind();
    const root = makeTempDir('berth-cluster-');
    const rootKey = { accessKeyId: `AKIA${base32(16)}`, secretAccessKey: randomBytes(30).toString('base64') };
    const env: NodeJS.ProcessEnv = {
      BERTH_MASTER_KEY: randomBytes(32).toString('base64'),
      BERTH_ROOT_ACCESS_KEY_ID: rootKey.accessKeyId, BERTH_ROOT_SECRET_ACCESS_KEY: rootKey.secretAccessKey,
      BERTH_LOG_LEVEL: 'info',
      ...opts.env,
    };
    let pg: TestPostgres | undefined;
    if (kind === 'postgres+s3') {
      pg = await freshPostgres();
      const s3 = freshS3();
      Object.assign(env, {
        BERTH_STORAGE_META: 'postgres', BERTH_POSTGRES_URL: pg.url,
        BERTH_STORAGE_BLOB: 's3', BERTH_S3_ENDPOINT: s3.endpoint, BERTH_S3_BUCKET: s3.bucket, BERTH_S3_REGION: s3.region,
        BERTH_S3_ACCESS_KEY_ID: s3.accessKeyId, BERTH_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      });
    }
    const cluster = new Cluster(kind, root, env, rootKey);
    cluster.#pg = pg;
    try {
      // One after the other: the first bootstraps the account and the root key.
      for (let i = 0; i < (opts.nodes ?? 3); i++) cluster.nodes.push(await BerthServer.start({ dataDir: cluster.dataDir(i), env }));
      await cluster.#startHaproxy();
      await cluster.login();
    } catch (e) {
      await cluster.dispose();
      throw e;
    }
    return cluster;
  }

  async #startHaproxy(): Promise<void> {
    this.lbPort = await freePort();
    const cfg = join(this.root, 'haproxy.cfg');
    // Round-robin per request (HAProxy balances each request of a kept-alive client connection);
    // /readyz health checks take a dead node out within about 1.5 s (a busy node's slow answer
    // within `timeout check` is not a failure); `retries` + `redispatch`
    // move a request whose connection could not be made to another node.
    await writeFile(cfg, [
      'global', '  maxconn 512',
      'defaults', '  mode http', '  log stdout format raw local0', '  option httplog',
      '  timeout connect 2s', '  timeout client 300s', '  timeout server 300s', '  timeout check 3s', '  retries 3', '  option redispatch 1',
      `frontend registry`, `  bind 127.0.0.1:${this.lbPort}`, '  log global', '  default_backend berth',
      'backend berth', '  balance roundrobin', '  option httpchk GET /readyz', '  http-check expect status 200',
      ...this.nodes.map((n, i) => `  server node${i + 1} ${n.host} check inter 500 fall 3 rise 2`),
      '',
    ].join('\n'));
    const fd = openSync(this.haproxyLog, 'a');
    this.#haproxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', fd, fd], env: hermeticEnv() });
    closeSync(fd);
    for (let i = 0; i < 100; i++) {
      if (this.#haproxy.exitCode !== null) throw new Error(`haproxy exited: ${readFileSync(this.haproxyLog, 'utf8')}`);
      const ok = await fetch(`${this.url}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) return;
      await sleep(100);
    }
    throw new Error('haproxy did not forward /readyz within 10 s');
  }

  /** GetAuthorizationToken through the balancer; the login goes to {@link authFile} for skopeo/podman. */
  async login(): Promise<void> {
    const { GetAuthorizationTokenCommand, ECRClient } = await import('@aws-sdk/client-ecr');
    const ecr = new ECRClient({ endpoint: this.url, region: 'us-east-1', credentials: { ...this.rootKey }, maxAttempts: 1 });
    try {
      const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!;
      this.password = Buffer.from(token, 'base64').toString('utf8').slice(4);
      await writeFile(this.authFile, JSON.stringify({ auths: { [this.host]: { auth: token } } }), { mode: 0o600 });
    } finally {
      ecr.destroy();
    }
  }

  /** fetch through the balancer (or to `node` directly), logged in on `/v2`. */
  fetch(path: string, init: RequestInit = {}, node?: BerthServer): Promise<Response> {
    const headers = new Headers(init.headers);
    if (path.startsWith('/v2') && !headers.has('authorization')) headers.set('authorization', this.authorization);
    return fetch(`${node ? node.url : this.url}${path}`, { ...init, headers });
  }

  /** The `aws` CLI against the balancer with the root key. */
  aws(args: string[]): Promise<RunResult> {
    return run('aws', ['--endpoint-url', this.url, '--region', 'us-east-1', '--output', 'json', ...args], {
      env: {
        AWS_ACCESS_KEY_ID: this.rootKey.accessKeyId, AWS_SECRET_ACCESS_KEY: this.rootKey.secretAccessKey,
        AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
  }

  /** `berth <args>` against the cluster's stores (the environment a node runs with). */
  berth(args: string[]): Promise<RunResult> {
    return run(process.execPath, [...BERTH_ARGS, ...args, '--data-dir', this.dataDir(0)], { env: this.env, timeoutMs: 120_000 });
  }

  async dispose(): Promise<void> {
    const lb = this.#haproxy;
    if (lb && lb.exitCode === null) {
      const exited = new Promise((done) => lb.once('exit', done));
      lb.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
    }
    for (const n of this.nodes) await n.dispose();
    await this.#pg?.drop().catch(() => {});
    if (process.env.BERTH_E2E_KEEP) {
      process.stderr.write(`# cluster files kept in ${this.root}\n`);
      return;
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
