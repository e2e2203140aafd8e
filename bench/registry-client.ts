// The handful of OCI Distribution calls the scenarios need, all by the spec's plain flows
// (monolithic POST-then-PUT uploads, manifest PUT by tag), nothing server-specific.
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { header, open, request, type HttpResponse } from './http-client.js';
import type { Server } from './servers.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface Image {
  readonly layers: readonly Buffer[];
  readonly layerDigests: readonly string[];
  readonly config: Buffer;
  readonly configDigest: string;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
}

/** An OCI image over the given layer bytes; digests are computed here, outside any timed section. */
export function makeImage(layers: readonly Buffer[]): Image {
  const layerDigests = layers.map((l) => sha256(l));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Labels: { nonce: randomBytes(8).toString('hex') } },
      rootfs: { type: 'layers', diff_ids: layerDigests },
    }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layers.map((l, i) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: layerDigests[i],
        size: l.length,
      })),
    }),
  );
  return { layers, layerDigests, config, configDigest, manifest, manifestDigest: sha256(manifest) };
}

export class RegistryError extends Error {}

function expect(res: HttpResponse, ok: readonly number[], what: string): HttpResponse {
  if (!ok.includes(res.status)) {
    throw new RegistryError(`${what}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
  }
  return res;
}

export class RegistryClient {
  readonly base: URL;
  readonly #auth: Record<string, string>;
  constructor(
    readonly server: Pick<Server, 'base' | 'authorization' | 'ensureRepository'>,
    readonly agent: http.Agent,
  ) {
    this.base = server.base;
    this.#auth = server.authorization ? { Authorization: server.authorization } : {};
  }

  /** Headers plus the login, if the server needs one. */
  #h(headers: Record<string, string | number> = {}): Record<string, string | number> {
    return { ...headers, ...this.#auth };
  }

  url(path: string): URL {
    return new URL(path, this.base);
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const res = await request(this.url(`/v2/${repo}/blobs/${digest}`), { method: 'HEAD', agent: this.agent, headers: this.#h() });
    return expect(res, [200, 404], `HEAD blob ${digest}`).status === 200;
  }

  /** Monolithic upload: POST /blobs/uploads/ then PUT <location>?digest= with the whole body. */
  async pushBlob(repo: string, digest: string, size: number, body: Buffer | Readable): Promise<void> {
    await this.server.ensureRepository?.(repo);
    const start = expect(
      await request(this.url(`/v2/${repo}/blobs/uploads/`), { method: 'POST', agent: this.agent, headers: this.#h({ 'Content-Length': 0 }) }),
      [202],
      `POST upload ${repo}`,
    );
    const location = header(start, 'location');
    if (!location) throw new RegistryError(`POST upload ${repo}: no Location header`);
    const put = new URL(location, this.base);
    put.searchParams.set('digest', digest);
    const res = await request(put, {
      method: 'PUT',
      agent: this.agent,
      headers: this.#h({ 'Content-Type': 'application/octet-stream', 'Content-Length': size }),
      body,
    });
    expect(res, [201], `PUT blob ${digest}`);
  }

  async putManifest(repo: string, reference: string, manifest: Buffer, mediaType = OCI_MANIFEST): Promise<void> {
    const res = await request(this.url(`/v2/${repo}/manifests/${reference}`), {
      method: 'PUT',
      agent: this.agent,
      headers: this.#h({ 'Content-Type': mediaType, 'Content-Length': manifest.length }),
      body: manifest,
    });
    expect(res, [201], `PUT manifest ${repo}:${reference}`);
  }

  async getManifest(repo: string, reference: string): Promise<HttpResponse> {
    const res = await request(this.url(`/v2/${repo}/manifests/${reference}`), {
      agent: this.agent,
      headers: this.#h({ Accept: MANIFEST_ACCEPT }),
    });
    return expect(res, [200], `GET manifest ${repo}:${reference}`);
  }

  /** Opens a blob GET; the caller streams the body. */
  async openBlob(repo: string, digest: string): Promise<http.IncomingMessage> {
    const res = await open(this.url(`/v2/${repo}/blobs/${digest}`), { agent: this.agent, headers: this.#h() });
    if (res.statusCode !== 200) {
      res.resume();
      throw new RegistryError(`GET blob ${digest}: HTTP ${res.statusCode ?? 0}`);
    }
    return res;
  }

  async get(pathOrUrl: string): Promise<HttpResponse> {
    const res = await request(new URL(pathOrUrl, this.base), { agent: this.agent, headers: this.#h() });
    return expect(res, [200], `GET ${pathOrUrl}`);
  }

  /** Pushes every blob of the image (layers, then config), then the manifest under `tag`. */
  async pushImage(repo: string, tag: string, image: Image): Promise<void> {
    for (let i = 0; i < image.layers.length; i++) {
      const layer = image.layers[i] as Buffer;
      await this.pushBlob(repo, image.layerDigests[i] as string, layer.length, layer);
    }
    await this.pushBlob(repo, image.configDigest, image.config.length, image.config);
    await this.putManifest(repo, tag, image.manifest);
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
