// N concurrent clients, each pushing images of M random layers + config + OCI manifest the way
// docker does it: HEAD each blob, upload the missing ones (a few in parallel), then PUT the
// manifest. Random bytes and all digests are produced before the clock starts.
import { randomBytes } from 'node:crypto';
import { keepAliveAgent } from '../http-client.js';
import { makeImage, mapLimit, RegistryClient, type Image } from '../registry-client.js';
import type { Server } from '../servers.js';
import type { BenchContext, Measurement, Scenario } from './types.js';

const MiB = 1024 * 1024;

async function pushLikeDocker(client: RegistryClient, repo: string, tag: string, image: Image, concurrency: number): Promise<void> {
  const blobs = [
    ...image.layers.map((bytes, i) => ({ bytes, digest: image.layerDigests[i] as string })),
    { bytes: image.config, digest: image.configDigest },
  ];
  await mapLimit(blobs, concurrency, async ({ bytes, digest }) => {
    if (await client.blobExists(repo, digest)) return;
    await client.pushBlob(repo, digest, bytes.length, bytes);
  });
  await client.putManifest(repo, tag, image.manifest);
}

export function concurrentPush(ctx: BenchContext): Scenario {
  const c = ctx.config;
  const generate = (): Image[][] =>
    Array.from({ length: c.pushClients }, () =>
      Array.from({ length: c.imagesPerClient }, () =>
        makeImage(Array.from({ length: c.pushLayers }, () => randomBytes(c.pushLayerMiB * MiB))),
      ),
    );
  return {
    id: 'concurrent-push',
    title: `${c.pushClients} clients × ${c.imagesPerClient} image(s) × ${c.pushLayers} × ${c.pushLayerMiB} MiB layers`,
    metrics: [
      {
        id: 'ips',
        label: `${c.pushClients} clients pushing ${c.pushLayers}-layer images`,
        unit: 'images/s',
        higherIsBetter: true,
        targetRatio: 2,
      },
    ],
    async setup() {},
    async measure(server: Server, round: number): Promise<Measurement> {
      const work = generate();
      const clients = work.map(() => new RegistryClient(server, keepAliveAgent(c.layerConcurrency)));
      try {
        const t0 = process.hrtime.bigint();
        await Promise.all(
          work.map(async (images, ci) => {
            const client = clients[ci] as RegistryClient;
            for (let i = 0; i < images.length; i++) {
              await pushLikeDocker(client, `bench/push-r${round}-c${ci}`, `v${i}`, images[i] as Image, c.layerConcurrency);
            }
          }),
        );
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        return { values: { ips: (c.pushClients * c.imagesPerClient) / seconds } };
      } finally {
        for (const client of clients) client.agent.destroy();
      }
    },
  };
}
