/**
 * Helpers for the end-to-end suites that drive berth's AWS surfaces with real AWS clients (the
 * `aws` CLI v1, `@aws-sdk/client-*`) and registry clients (podman, skopeo, the docker CLI through
 * `podman system service`). The process harness itself is `harness.ts`; nothing here starts berth.
 *
 * ```
 *   <server.workDir>/
 *     aws/credentials      shared-credentials files written for extra principals (mode 0600)
 *     layouts/<name>/      OCI layouts pushed through the ECR layer API
 *   <tmp>/berth-e2e-podman-XXXX/    one isolated podman store per suite (vfs, own runroot/tmpdir)
 *     registries.conf      marks the berth listener insecure (CONTAINERS_REGISTRIES_CONF)
 *     docker.sock          `podman system service` socket the docker CLI talks to (DOCKER_HOST)
 *     docker-config/       DOCKER_CONFIG of the docker CLI (its config.json holds the login)
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  BatchCheckLayerAvailabilityCommand, CompleteLayerUploadCommand, ECRClient, GetAuthorizationTokenCommand,
  InitiateLayerUploadCommand, PutImageCommand, UploadLayerPartCommand, type ECRClientConfig,
} from '@aws-sdk/client-ecr';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { buildImageLayout, readLayoutBlob, type BuiltImage, type ImageOptions } from '../fixtures/oci-image.js';
import { expectOk, hermeticEnv, run, sleep, type BerthServer, type RunResult } from './harness.js';

export const REGION = 'us-east-1';

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** SDK client settings for `server`: its URL as the endpoint, no retries (an error is the answer). */
export function sdkConfig(server: BerthServer, keys: AwsKeys, extra: Partial<ECRClientConfig> = {}): ECRClientConfig {
  return {
    endpoint: server.url, region: REGION, maxAttempts: 1,
    credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey }, ...extra,
  };
}

export const ecrClient = (server: BerthServer, keys: AwsKeys, extra: Partial<ECRClientConfig> = {}): ECRClient =>
  new ECRClient(sdkConfig(server, keys, extra));
export const iamClient = (server: BerthServer, keys: AwsKeys, extra: { systemClockOffset?: number } = {}): IAMClient =>
  new IAMClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { ...keys }, ...extra });
export const stsClient = (server: BerthServer, keys: AwsKeys, extra: { systemClockOffset?: number } = {}): STSClient =>
  new STSClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { ...keys }, ...extra });

/** Resolves with what `promise` rejected with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; Code?: string }> {
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${JSON.stringify(value).slice(0, 500)}`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('expected a rejection')) throw err;
    return err as Error;
  }
}

// ---- raw requests ---------------------------------------------------------------------------

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** POST / with exactly `body` and `headers` (node:http, so nothing is added or normalized). */
export function rawPost(server: BerthServer, headers: Record<string, string>, body: string): Promise<RawResponse> {
  return new Promise((done, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The headers of a SigV4-signed `POST /` for `service` carrying `body` exactly as given (which an
 * SDK client would never send, e.g. malformed JSON). `signingDate` defaults to now.
 */
export async function signedHeaders(server: BerthServer, keys: AwsKeys, service: string, headers: Record<string, string>, body: string, signingDate?: Date): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service, region: REGION, credentials: { ...keys }, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: server.port, path: '/', query: {},
    headers: { host: server.host, ...headers }, body,
  }, signingDate ? { signingDate } : {});
  return signed.headers;
}

/** A JSON 1.1 ECR call sent as raw bytes: `body` is not checked or re-serialized. */
export async function signedEcrPost(server: BerthServer, keys: AwsKeys, operation: string, body: string): Promise<RawResponse> {
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonEC2ContainerRegistry_V20150921.${operation}` };
  return rawPost(server, await signedHeaders(server, keys, 'ecr', headers, body), body);
}

// ---- aws CLI ---------------------------------------------------------------------------------

/** Writes an AWS shared-credentials file with a `[default]` profile for `keys`; returns its path. */
export async function writeCredentialsFile(server: BerthServer, name: string, keys: AwsKeys): Promise<string> {
  const dir = join(server.workDir, 'aws');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}-credentials`);
  await writeFile(file, `[default]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\nregion = ${REGION}\n`, { mode: 0o600 });
  return file;
}

export interface AwsCliOptions {
  /** Shared-credentials file (default: the root one berth wrote to `<data>/credentials`). */
  credentialsFile?: string;
  /** AWS config file (default /dev/null, so nothing on this machine leaks in). */
  configFile?: string;
  input?: string;
  timeoutMs?: number;
  /** Environment over the defaults (e.g. AWS_ACCESS_KEY_ID for a key preset through BERTH_ROOT_*). */
  env?: NodeJS.ProcessEnv;
}

/** `aws --endpoint-url <server> --output json <args>` with only berth's credentials in scope. */
export function awsCli(server: BerthServer, args: string[], opts: AwsCliOptions = {}): Promise<RunResult> {
  return run('aws', ['--endpoint-url', server.url, '--output', 'json', ...args], {
    timeoutMs: opts.timeoutMs ?? 60_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    env: {
      AWS_SHARED_CREDENTIALS_FILE: opts.credentialsFile ?? join(server.dataDir, 'credentials'),
      AWS_CONFIG_FILE: opts.configFile ?? '/dev/null',
      AWS_PROFILE: 'default', AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '',
      ...opts.env,
    },
  });
}

/** Runs the CLI, requires exit 0, and parses its JSON output (`{}` when it printed nothing). */
export async function awsJson<T = Record<string, unknown>>(server: BerthServer, args: string[], opts: AwsCliOptions = {}): Promise<T> {
  const r = expectOk(await awsCli(server, args, opts), server);
  return (r.stdout.trim() ? JSON.parse(r.stdout) : {}) as T;
}

/** The AWS error name the CLI printed: `An error occurred (Name) when calling …`. */
export function cliErrorName(r: RunResult): string | undefined {
  return /An error occurred \(([A-Za-z]+)\)/.exec(r.stderr)?.[1];
}

// ---- registry logins -------------------------------------------------------------------------

/** The password part of `GetAuthorizationToken` (what `aws ecr get-login-password` prints). */
export async function loginPassword(ecr: ECRClient): Promise<string> {
  const out = await ecr.send(new GetAuthorizationTokenCommand({}));
  const decoded = Buffer.from(out.authorizationData?.[0]?.authorizationToken ?? '', 'base64').toString('utf8');
  if (!decoded.startsWith('AWS:')) throw new Error(`GetAuthorizationToken returned no AWS:<token>: ${JSON.stringify(out)}`);
  return decoded.slice(4);
}

export const basicAuth = (password: string, user = 'AWS'): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

// ---- pushing through the ECR API ------------------------------------------------------------

export interface EcrPushed extends BuiltImage {
  /** What PutImage answered as the image digest. */
  digest: string;
}

/** Uploads one blob with the ECR layer API (initiate → one part → complete); skipped when present. */
export async function uploadBlobWithEcrApi(ecr: ECRClient, repositoryName: string, bytes: Buffer, digest: string): Promise<void> {
  const check = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [digest] }));
  if (check.layers?.[0]?.layerAvailability === 'AVAILABLE') return;
  const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
  await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 0, partLastByte: bytes.length - 1, layerPartBlob: bytes }));
  await ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [digest] }));
}

/**
 * Pushes a fresh random image the way ECR-native tools do (no `/v2`): every layer and the config
 * through the layer API, then PutImage with the manifest under `tag`.
 */
export async function pushImageWithEcrApi(ecr: ECRClient, dir: string, repositoryName: string, tag: string | undefined, opts: ImageOptions = {}): Promise<EcrPushed> {
  const image = await buildImageLayout(join(dir, `${repositoryName.replace(/\//g, '_')}-${randomBytes(4).toString('hex')}`), { layers: 1, filesPerLayer: 1, ...opts });
  for (const d of [...image.layers, image.config]) await uploadBlobWithEcrApi(ecr, repositoryName, await readLayoutBlob(image.dir, d.digest), d.digest);
  const out = await ecr.send(new PutImageCommand({
    repositoryName, imageManifest: image.manifestBytes.toString('utf8'), imageManifestMediaType: image.manifest.mediaType, ...(tag ? { imageTag: tag } : {}),
  }));
  return { ...image, digest: out.image?.imageId?.imageDigest ?? '' };
}

// ---- podman / docker -------------------------------------------------------------------------

/**
 * podman on an isolated store (vfs, own root/runroot/tmpdir), with `hosts` marked insecure in its
 * own registries.conf. `REGISTRY_AUTH_FILE` is pointed at a file of its own, so the harness's
 * login never leaks into a test that is meant to prove a login.
 */
export class Podman {
  readonly registriesConf: string;
  readonly defaultAuthFile: string;
  #service: ChildProcess | undefined;

  private constructor(readonly dir: string) {
    this.registriesConf = join(dir, 'registries.conf');
    this.defaultAuthFile = join(dir, 'default-auth.json');
  }

  /** A ready podman, or the reason podman cannot run here (printed, for a SKIP). */
  static async create(hosts: string[]): Promise<Podman | string> {
    const dir = join(tmpdir(), `berth-e2e-podman-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    const p = new Podman(dir);
    await writeFile(p.registriesConf, `unqualified-search-registries = []\n${hosts.map((h) => `[[registry]]\nlocation = "${h}"\ninsecure = true\n`).join('')}`);
    await writeFile(p.defaultAuthFile, '{"auths":{}}');
    const info = await p.run(['info', '--format', '{{.Store.GraphDriverName}}']);
    if (info.code !== 0) {
      const reason = `podman cannot run in this environment: ${(info.stderr || info.stdout).trim().split('\n').pop() ?? ''}`;
      process.stderr.write(`# SKIP ${reason}\n`);
      await rm(dir, { recursive: true, force: true });
      return reason;
    }
    return p;
  }

  get env(): NodeJS.ProcessEnv {
    return { CONTAINERS_REGISTRIES_CONF: this.registriesConf, REGISTRY_AUTH_FILE: this.defaultAuthFile };
  }

  get globalArgs(): string[] {
    return ['--root', join(this.dir, 'root'), '--runroot', join(this.dir, 'run'), '--tmpdir', join(this.dir, 'tmp'),
      '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  }

  run(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return run('podman', [...this.globalArgs, ...args], { timeoutMs: opts.timeoutMs ?? 90_000, env: this.env, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  }

  /** Loads an OCI layout into local storage; resolves with the image id. */
  async load(image: BuiltImage, server?: BerthServer): Promise<string> {
    const r = expectOk(await this.run(['pull', `oci:${image.dir}:${image.refName}`]), server);
    return r.stdout.trim().split('\n').pop()!.trim();
  }

  /** Starts `podman system service` on a socket in the store dir; resolves with DOCKER_HOST. */
  async startDockerService(): Promise<string> {
    const sock = join(this.dir, 'docker.sock');
    const child = spawn('podman', [...this.globalArgs, 'system', 'service', '--time=0', `unix://${sock}`], {
      env: { ...hermeticEnv(), ...this.env }, stdio: 'ignore',
    });
    this.#service = child;
    const host = `unix://${sock}`;
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`podman system service exited with ${child.exitCode}`);
      const r = await run('docker', ['version', '--format', '{{.Server.Version}}'], { env: { DOCKER_HOST: host }, timeoutMs: 10_000 });
      if (r.code === 0) return host;
      await sleep(200);
    }
    throw new Error('podman system service did not answer the docker CLI within 20 s');
  }

  async dispose(): Promise<void> {
    const svc = this.#service;
    if (svc && svc.exitCode === null && svc.signalCode === null) {
      const exited = new Promise((done) => svc.once('exit', done));
      svc.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (svc.exitCode === null && svc.signalCode === null) svc.kill('SIGKILL');
    }
    // vfs layers are plain directories: remove them through podman first so nothing stays mounted.
    await this.run(['rmi', '-af'], { timeoutMs: 60_000 }).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
