import { createHash, randomBytes } from 'node:crypto';
import { after } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

/** An app on the in-memory backends, closed after the test file. */
export async function memoryApp(overrides: Record<string, unknown> = {}): Promise<App> {
  const config = validateConfig({ storage: { meta: 'memory', blob: 'memory' }, log: { level: 'silent' }, ...overrides });
  const app = await createApp(config, { logger: pino({ level: 'silent' }), openRegistry: true });
  after(() => app.close());
  return app;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function errorCode(res: LightMyRequestResponse): string | undefined {
  return (res.json() as { errors?: { code: string }[] }).errors?.[0]?.code;
}

/** Pushes one blob monolithically; returns its digest. */
export async function pushBlob(server: FastifyInstance, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const res = await server.inject({ method: 'POST', url: `/v2/${repo}/blobs/uploads/?digest=${digest}`, payload: data, headers: { 'content-type': 'application/octet-stream' } });
  if (res.statusCode !== 201) throw new Error(`push blob: ${res.statusCode} ${res.body}`);
  return digest;
}

/** Pushes config + layers and an OCI image manifest under `reference`; returns the manifest's body and digest. */
export async function pushImage(server: FastifyInstance, repo: string, reference: string, opts: { layers?: number; subject?: { digest: string; size: number; mediaType: string }; artifactType?: string; annotations?: Record<string, string> } = {}): Promise<{ digest: string; body: Buffer; size: number }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }));
  const configDigest = await pushBlob(server, repo, config);
  const layers = [];
  for (let i = 0; i < (opts.layers ?? 1); i++) {
    const data = randomBytes(1024 + i);
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await pushBlob(server, repo, data), size: data.length });
  }
  const manifest = {
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers,
    ...(opts.subject ? { subject: opts.subject } : {}),
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  };
  const body = Buffer.from(JSON.stringify(manifest));
  const res = await server.inject({ method: 'PUT', url: `/v2/${repo}/manifests/${reference}`, payload: body, headers: { 'content-type': OCI_MANIFEST } });
  if (res.statusCode !== 201) throw new Error(`push manifest: ${res.statusCode} ${res.body}`);
  return { digest: sha256(body), body, size: body.length };
}
