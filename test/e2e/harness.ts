/**
 * End-to-end harness: runs berth as a real child process (through tsx, so no build is needed) and
 * runs third-party clients (skopeo, podman) with a timeout.
 *
 * ```
 *   <tmp>/berth-e2e-XXXX/
 *     data/        --data-dir of the server (kept across restart(), so crash tests can reopen it)
 *     server.log   stdout+stderr of every start of the server, appended
 *     work/        scratch space for the test (layouts, pulled images, podman storage)
 * ```
 *
 * Temp dirs are removed by {@link BerthServer.dispose}; set BERTH_E2E_KEEP=1 to keep them (the
 * path is printed) when diagnosing a failure.
 *
 * `/v2` requires authentication exactly like ECR, so after every launch the harness logs in the
 * real way: it reads the root key berth wrote to `<data>/credentials`, calls ECR
 * `GetAuthorizationToken` on the same listener (what `aws ecr get-login-password` does) and writes
 * the resulting `AWS:<token>` into a containers auth file (`<tmp>/auth.json`, pointed to by
 * `REGISTRY_AUTH_FILE`, which skopeo and podman read).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent as HttpsAgent } from 'node:https';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { Agent as UndiciAgent, fetch as undiciFetch, type Dispatcher, type RequestInit as UndiciInit } from 'undici';

// berth supports Node 20 (package.json engines); the SDK's "will require node >=22" notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const REPO_ROOT = resolve(new URL('../..', import.meta.url).pathname);
/**
 * How tests run berth: from source through tsx, or with BERTH_E2E_BUNDLE=1 as users do, `node
 * bin/berth.js` (the esbuild bundle, its chunks and code caches; `npm test` runs a few suites so).
 */
export const BERTH_ARGS = process.env.BERTH_E2E_BUNDLE === '1' ? [join(REPO_ROOT, 'bin/berth.js')] : ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts')];

/** A free loopback TCP port (bound then released; the tiny race is acceptable for tests). */
export async function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => done(port));
    });
  });
}

/**
 * This process's environment without the BERTH_* and AWS_* variables of whoever runs the tests, so
 * a preset root key, region or profile never changes a result; each test adds what it means to set.
 */
export function hermeticEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(BERTH_(?!E2E_)|AWS_)/.test(k) || k === 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'));
}

export function makeTempDir(prefix = 'berth-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The root access key berth wrote to `<dataDir>/credentials` (AWS shared-credentials format). */
export interface RootKey {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** Parses the `[default]` profile of an AWS shared-credentials file. */
export async function readCredentialsFile(file: string): Promise<RootKey> {
  const text = await readFile(file, 'utf8');
  const values: Record<string, string> = {};
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      section = header[1]!.trim();
      continue;
    }
    const kv = /^\s*([\w-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (kv && section === 'default') values[kv[1]!] = kv[2]!;
  }
  const { aws_access_key_id: accessKeyId, aws_secret_access_key: secretAccessKey, region } = values;
  if (!accessKeyId || !secretAccessKey || !region) throw new Error(`${file} lacks aws_access_key_id, aws_secret_access_key or region:\n${text.replace(/(aws_secret_access_key\s*=\s*).*/, '$1<hidden>')}`);
  return { accessKeyId, secretAccessKey, region };
}

/**
 * Registry logins of every server this test process launched (host → base64 `AWS:<token>`).
 * Each test file runs in its own process, so one auth file holding all of them is enough.
 */
const logins = new Map<string, string>();

/** Init for {@link BerthServer.fetch}: `anonymous: true` sends no Authorization header. */
export type FetchInit = RequestInit & { anonymous?: boolean };

export interface StartOptions {
  /** Reuse this data dir (default: a fresh one under the server's temp dir). */
  dataDir?: string;
  /** Extra environment for the child. */
  env?: NodeJS.ProcessEnv;
  /** Pass --listen/--data-dir flags (default true); false to test configuration by env only. */
  useFlags?: boolean;
  /** Extra CLI args after `serve`. */
  args?: string[];
  /**
   * Serve HTTPS with `<dir>/server.crt` + `<dir>/server.key` (made by `berth cert create`); the
   * harness then trusts `<dir>/ca.crt` for its own requests and its ECR client.
   */
  tlsDir?: string;
}

export class BerthServer {
  readonly root: string;
  readonly dataDir: string;
  readonly workDir: string;
  readonly logFile: string;
  /** The containers auth file (`{"auths": {host: {auth}}}`) this server's login is written to. */
  readonly authFile: string;
  port = 0;
  /** `https` when started with {@link StartOptions.tlsDir}. */
  scheme: 'http' | 'https' = 'http';
  /** The CA the harness trusts for an HTTPS server (PEM), else undefined. */
  ca: Buffer | undefined;
  #dispatcher: Dispatcher | undefined;
  child: ChildProcess | undefined;
  /** ECR API client for the running process (root credentials, `--endpoint-url` = {@link url}). */
  ecr!: ECRClient;
  /** The root key from `<dataDir>/credentials`. */
  rootKey!: RootKey;
  /** `AWS:<token>` login from `GetAuthorizationToken`, made after the latest launch. */
  username = 'AWS';
  password = '';
  #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  /** A root key preset through BERTH_ROOT_* (berth then writes no credentials file). */
  #preset: RootKey | undefined;

  private constructor(dataDir?: string) {
    this.root = makeTempDir();
    this.dataDir = dataDir ?? join(this.root, 'data');
    this.workDir = join(this.root, 'work');
    this.logFile = join(this.root, 'server.log');
    this.authFile = join(this.root, 'auth.json');
  }

  /**
   * Starts a server on a free port with a fresh data dir; resolves once GET /readyz answers 200
   * and the harness has logged in (see {@link login}).
   */
  static async start(opts: StartOptions = {}): Promise<BerthServer> {
    const server = new BerthServer(opts.dataDir);
    await mkdir(server.workDir, { recursive: true });
    await server.launch(opts);
    return server;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `${this.scheme}://${this.host}`;
  }

  /** (Re)launches the process on a new free port, same data dir. */
  async launch(opts: StartOptions = {}): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) throw new Error('server already running');
    this.port = await freePort();
    const presetId = opts.env?.BERTH_ROOT_ACCESS_KEY_ID;
    const presetSecret = opts.env?.BERTH_ROOT_SECRET_ACCESS_KEY;
    this.#preset = presetId && presetSecret ? { accessKeyId: presetId, secretAccessKey: presetSecret, region: 'us-east-1' } : undefined;
    const useFlags = opts.useFlags ?? true;
    // One worker unless a test asks otherwise: the default (one per CPU) would double every test server.
    const workers = (opts.args ?? []).includes('--workers') || opts.env?.BERTH_WORKERS !== undefined ? [] : ['--workers', '1'];
    const tlsArgs = opts.tlsDir ? ['--tls-cert', join(opts.tlsDir, 'server.crt'), '--tls-key', join(opts.tlsDir, 'server.key')] : [];
    if (opts.tlsDir) {
      this.scheme = 'https';
      this.ca = readFileSync(join(opts.tlsDir, 'ca.crt'));
      this.#dispatcher = new UndiciAgent({ connect: { ca: this.ca } });
    }
    const args = [...BERTH_ARGS, 'serve', ...(useFlags ? ['--listen', this.host, '--data-dir', this.dataDir] : []), ...workers, ...tlsArgs, ...(opts.args ?? [])];
    const env = { ...hermeticEnv(), ...(useFlags ? {} : { BERTH_LISTEN: this.host, BERTH_DATA_DIR: this.dataDir }), ...opts.env };
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    this.#exit = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
    await this.waitReady(child);
    await this.login();
  }

  /** The `Authorization` header value for `/v2` requests: Basic base64(`AWS:<token>`). */
  get authorization(): string {
    return `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
  }

  /**
   * Logs in the way `aws ecr get-login-password | docker login -u AWS --password-stdin` does:
   * root key from `<dataDir>/credentials` (or the one preset through BERTH_ROOT_*), ECR `GetAuthorizationToken` against this listener, and
   * the resulting `AWS:<token>` written to {@link authFile} (REGISTRY_AUTH_FILE points at it).
   */
  async login(): Promise<void> {
    this.ecr?.destroy();
    this.rootKey = this.#preset ?? await readCredentialsFile(join(this.dataDir, 'credentials'));
    this.ecr = new ECRClient({
      endpoint: this.url,
      region: this.rootKey.region,
      credentials: { accessKeyId: this.rootKey.accessKeyId, secretAccessKey: this.rootKey.secretAccessKey },
      maxAttempts: 1,
      ...(this.ca ? { requestHandler: { httpsAgent: new HttpsAgent({ ca: this.ca }) } } : {}),
    });
    const out = await this.ecr.send(new GetAuthorizationTokenCommand({}));
    const token = out.authorizationData?.[0]?.authorizationToken;
    if (!token) throw new Error(`GetAuthorizationToken returned no token: ${JSON.stringify(out)}`);
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new Error('GetAuthorizationToken returned a token that is not base64(user:password)');
    this.username = decoded.slice(0, colon);
    this.password = decoded.slice(colon + 1);
    logins.set(this.host, token);
    const auths = Object.fromEntries([...logins].map(([host, auth]) => [host, { auth }]));
    await writeFile(this.authFile, `${JSON.stringify({ auths }, null, 2)}\n`, { mode: 0o600 });
    process.env.REGISTRY_AUTH_FILE = this.authFile;
  }

  /** ECR `CreateRepository`; a repository that already exists is fine. */
  async ensureRepository(name: string): Promise<void> {
    try {
      await this.ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    } catch (err) {
      if ((err as Error).name !== 'RepositoryAlreadyExistsException') throw err;
    }
  }

  private async waitReady(child: ChildProcess, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`berth exited before becoming ready (code ${child.exitCode}, signal ${child.signalCode})\n${this.logTail()}`);
      }
      try {
        const res = await this.fetch('/readyz', { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    child.kill('SIGKILL');
    throw new Error(`berth did not answer GET /readyz with 200 within ${timeoutMs} ms\n${this.logTail()}`);
  }

  /** Resolves with how the current process ended. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.#exit) throw new Error('server never started');
    return this.#exit;
  }

  /** `kill -9`: no chance to flush or drain anything. */
  async kill9(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited();
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. Resolves with the exit. */
  async stop(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child) throw new Error('server never started');
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await this.exited();
      } finally {
        clearTimeout(timer);
      }
    }
    return this.exited();
  }

  /** Stops the server (if running) and removes the temp dir unless BERTH_E2E_KEEP is set. */
  async dispose(): Promise<void> {
    if (this.child) await this.stop(5000).catch(() => undefined);
    this.ecr?.destroy();
    if (process.env.BERTH_E2E_KEEP) {
      process.stderr.write(`# berth e2e files kept in ${this.root}\n`);
      return;
    }
    await rm(this.root, { recursive: true, force: true });
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Last lines of the server log, for assertion messages. */
  logTail(lines = 40): string {
    return `--- berth log tail (${this.logFile}) ---\n${this.log().split('\n').slice(-lines).join('\n')}`;
  }

  /** Sum of a Prometheus counter from GET /metrics over the series whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const res = await this.fetch('/metrics');
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text.slice(0, 200)}`);
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([^ ]+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
      if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
    }
    return sum;
  }

  /**
   * fetch against the server (path starts with /). `/v2` requests carry {@link authorization}
   * unless the caller sets its own Authorization header or passes `anonymous: true`.
   */
  fetch(path: string, init: FetchInit = {}): Promise<Response> {
    const { anonymous, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (!anonymous && path.startsWith('/v2') && !headers.has('authorization')) headers.set('authorization', this.authorization);
    if (this.#dispatcher) {
      // A private CA: undici's own fetch takes a dispatcher that trusts it (the global fetch cannot).
      return undiciFetch(`${this.url}${path}`, { ...rest, headers, dispatcher: this.#dispatcher } as UndiciInit) as unknown as Promise<Response>;
    }
    return fetch(`${this.url}${path}`, { ...rest, headers });
  }
}

export interface RunResult {
  cmd: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to completion (or `timeoutMs`, then SIGKILL); never rejects on a non-zero exit. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: { ...hermeticEnv(), ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = '') => {
      clearTimeout(timer);
      done({
        cmd: [cmd, ...args].join(' '), code, signal, timedOut,
        stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + extra,
      });
    };
    child.once('error', (e) => finish(null, null, `\nspawn failed: ${e.message}`));
    child.once('close', (code, signal) => finish(code, signal));
    // A child that exits without reading its stdin makes the write fail with EPIPE: not an error here.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Human-readable summary of a command result, plus the server log tail, for assertion messages. */
export function describeRun(r: RunResult, server?: BerthServer): string {
  const status = r.timedOut ? 'timed out' : `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}`;
  return `$ ${r.cmd}\n${status}\n--- stdout ---\n${r.stdout.slice(-4000)}\n--- stderr ---\n${r.stderr.slice(-4000)}\n${server ? server.logTail() : ''}`;
}

/** Throws unless the command exited 0; returns the result. */
export function expectOk(r: RunResult, server?: BerthServer): RunResult {
  if (r.code !== 0) throw new Error(`command failed\n${describeRun(r, server)}`);
  return r;
}

/**
 * Why `tool` cannot be used here, or `undefined` when `tool --version` runs. Used as a
 * `describe(..., { skip })` reason so a missing client shows up as SKIP, never as a pass.
 */
export async function toolSkipReason(tool: string): Promise<string | undefined> {
  const r = await run(tool, ['--version'], { timeoutMs: 15_000 });
  if (r.code === 0) return undefined;
  const reason = `${tool} is not usable here: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.code}`}`;
  process.stderr.write(`# SKIP ${reason}\n`);
  return reason;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
