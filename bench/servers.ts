// Starts CNCF Distribution and berth on 127.0.0.1 random free ports with fresh data dirs,
// and waits for `GET /v2/` to answer 200.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerKind } from './config.js';
import type { Agent } from 'node:http';
import { keepAliveAgent, request, trustCa } from './http-client.js';
import { track } from './procs.js';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface Server {
  readonly kind: ServerKind;
  /** Human description: binary and version / how berth was started. */
  readonly description: string;
  readonly base: URL;
  readonly dataDir: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** `Basic AWS:<token>` for berth, whose registry requires a login as ECR does; none for distribution. */
  readonly authorization?: string;
  /** Creates a repository before the first push (berth refuses pushes to unknown repositories, as ECR does). */
  readonly ensureRepository?: (name: string) => Promise<void>;
}

/** Absolute path of an executable on PATH (or the given absolute path), or undefined. */
export function findExecutable(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : (process.env['PATH'] ?? '').split(delimiter).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why a failed step may have failed: the server's exit status and log tail, or '' if it still runs. */
export function postMortem(server: Server): string {
  const { exitCode, signalCode } = server.child;
  const status = exitCode !== null ? `exited with code ${exitCode}` : signalCode !== null ? `killed by ${signalCode}` : '';
  const tail = logTail(server.logFile, 20);
  return `${server.kind} ${status || 'is still running'}; log tail (${server.logFile}):\n${tail || '(empty)'}`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not allocate a port'))));
    });
  });
}

export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function spawnLogged(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return track(spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', fd, fd], env: env ?? process.env }));
  } finally {
    closeSync(fd);
  }
}

export async function waitReady(base: URL, child: ChildProcess, logFile: string, timeoutMs: number, path = '/v2/'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const agent = keepAliveAgent(1);
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited (${child.exitCode ?? child.signalCode}) before becoming ready; log tail:\n${logTail(logFile)}`);
    }
    try {
      const res = await request(new URL(path, base), { agent });
      if (res.status === 200) return;
      last = `GET ${path} -> ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready after ${timeoutMs} ms (${last}); log tail:\n${logTail(logFile)}`);
}

export async function startDistribution(bin: string, workDir: string): Promise<Server> {
  const dataDir = join(workDir, 'distribution-data');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const configFile = join(workDir, 'distribution.yml');
  // The Debian package's own config keeps the in-memory blob descriptor cache; keep it so the
  // baseline is distribution as operators actually run it.
  writeFileSync(
    configFile,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dataDir}`,
      '  cache:',
      '    blobdescriptor: inmemory',
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const logFile = join(workDir, 'distribution.log');
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const child = spawnLogged(bin, ['serve', configFile], logFile);
  const base = new URL(`http://127.0.0.1:${port}`);
  await waitReady(base, child, logFile, 15_000);
  return { kind: 'distribution', description: version || bin, base, dataDir, logFile, child };
}

export type BerthLaunch = { readonly mode: 'dist' | 'tsx'; readonly note: string };

/** Builds berth (unless told to run from source) and decides how to launch it. */
export function prepareBerth(mode: 'auto' | 'dist' | 'tsx'): BerthLaunch {
  if (!existsSync(join(repoRoot, 'src/cli/main.ts'))) {
    throw new Error('src/cli/main.ts does not exist yet: berth cannot be started (run with BENCH_SERVERS=distribution)');
  }
  if (mode === 'tsx') return { mode: 'tsx', note: 'from source via tsx (BENCH_BERTH=tsx)' };
  process.stderr.write('building berth (npm run build)…\n');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status === 0 && existsSync(join(repoRoot, 'dist/berth.cjs'))) {
    return { mode: 'dist', note: 'compiled (npm run build, bin/berth.js)' };
  }
  const why = `${build.stdout ?? ''}${build.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
  if (mode === 'dist') throw new Error(`npm run build failed (BENCH_BERTH=dist):\n${why}`);
  process.stderr.write(
    `WARNING: npm run build failed, falling back to running berth from source through tsx.\n` +
      `tsx transpiles at start-up, so steady-state figures are close, but this is not the release build.\n${why}\n`,
  );
  return { mode: 'tsx', note: 'from source via tsx (build FAILED, see warning)' };
}

export async function startBerth(launch: BerthLaunch, workDir: string): Promise<Server> {
  const dataDir = join(workDir, 'berth-data');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const logFile = join(workDir, 'berth.log');
  // Distribution (Go) uses every core; berth does so through its workers.
  // Unset: berth's own default (auto = one worker per CPU), which is what the issue measures.
  const workersFlag = process.env['BENCH_BERTH_WORKERS'];
  const workers = workersFlag ? Number(workersFlag) : availableParallelism();
  const serveArgs = ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...(workersFlag ? ['--workers', workersFlag] : [])];
  // BENCH_BERTH_TLS=1: serve HTTPS with a certificate from `berth cert create` (the bench trusts its CA).
  const tls = process.env['BENCH_BERTH_TLS'] === '1';
  if (tls) {
    const certs = join(workDir, 'berth-certs');
    const entry = launch.mode === 'dist' ? ['bin/berth.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
    const made = spawnSync(process.execPath, [...entry, 'cert', 'create', '--host', '127.0.0.1', '--out', certs], { cwd: repoRoot, encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`berth cert create failed: ${made.stderr}`);
    trustCa(readFileSync(join(certs, 'ca.crt')));
    serveArgs.push('--tls-cert', join(certs, 'server.crt'), '--tls-key', join(certs, 'server.key'));
  }
  // BENCH_NODE_ARGS: extra node flags for berth (e.g. `--cpu-prof --cpu-prof-dir=DIR`; not allowed in NODE_OPTIONS).
  const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const args = [...nodeArgs, ...(launch.mode === 'dist' ? ['bin/berth.js', ...serveArgs] : ['--import', 'tsx', 'src/cli/main.ts', ...serveArgs])];
  // Same logging stance as distribution's config (errors only, no access log).
  const env = { ...process.env, NODE_ENV: 'production', BERTH_LOG_LEVEL: process.env['BERTH_LOG_LEVEL'] ?? 'error' };
  const child = spawnLogged(process.execPath, args, logFile, env);
  const base = new URL(`${tls ? 'https' : 'http'}://127.0.0.1:${port}`);
  await waitReady(base, child, logFile, launch.mode === 'dist' ? 60_000 : 120_000, '/readyz');
  const login = await berthLogin(base, dataDir);
  return { kind: 'berth', description: `berth ${launch.note}, ${workers} worker(s)${tls ? ', HTTPS' : ''}`, base, dataDir, logFile, child, ...login };
}

/** Logs in the way ECR users do: root credentials → GetAuthorizationToken → Basic AWS:<token>. */
export async function berthLogin(base: URL, dataDir: string): Promise<Pick<Server, 'authorization' | 'ensureRepository'>> {
  const { ECRClient, GetAuthorizationTokenCommand, CreateRepositoryCommand, RepositoryAlreadyExistsException } = await import('@aws-sdk/client-ecr');
  const text = readFileSync(join(dataDir, 'credentials'), 'utf8');
  const field = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '';
  const ecr = new ECRClient({
    endpoint: base.href, region: 'us-east-1', requestHandler: { httpsAgent: keepAliveAgent(4) as Agent },
    credentials: { accessKeyId: field('aws_access_key_id'), secretAccessKey: field('aws_secret_access_key') },
  });
  const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]?.authorizationToken;
  if (!token) throw new Error('berth returned no authorization token');
  const created = new Set<string>();
  return {
    authorization: `Basic ${token}`,
    ensureRepository: async (name) => {
      if (created.has(name)) return;
      await ecr.send(new CreateRepositoryCommand({ repositoryName: name })).catch((err: unknown) => {
        if (!(err instanceof RepositoryAlreadyExistsException)) throw err;
      });
      created.add(name);
    },
  };
}
