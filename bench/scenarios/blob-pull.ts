// Large blob pull: GET /v2/<repo>/blobs/<digest>, body read and discarded. The blob is pushed
// in setup (untimed), so it is equally page-cache-warm on both servers.
import { drain, keepAliveAgent } from '../http-client.js';
import { RegistryClient } from '../registry-client.js';
import type { ServerKind } from '../config.js';
import type { BenchContext, Measurement, Scenario } from './types.js';

const MiB = 1024 * 1024;
const REPO = 'bench/pull';

export function blobPull(ctx: BenchContext): Scenario {
  const mib = ctx.config.blobMiB;
  const digests = new Map<ServerKind, string>();
  return {
    id: 'blob-pull',
    title: `${mib} MiB blob pull`,
    metrics: [{ id: 'mibps', label: `${mib} MiB blob pull`, unit: 'MiB/s', higherIsBetter: true, targetRatio: 1.5 }],
    async setup(server) {
      const source = await ctx.blobSource();
      const { digest, stream } = source.next();
      const client = new RegistryClient(server, keepAliveAgent(1));
      await client.pushBlob(REPO, digest, source.size, stream());
      client.agent.destroy();
      digests.set(server.kind, digest);
    },
    async measure(server): Promise<Measurement> {
      const source = await ctx.blobSource();
      const digest = digests.get(server.kind);
      if (!digest) throw new Error(`blob-pull: no blob pushed to ${server.kind}`);
      const client = new RegistryClient(server, keepAliveAgent(1));
      try {
        const t0 = process.hrtime.bigint();
        const bytes = await drain(await client.openBlob(REPO, digest));
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        if (bytes !== source.size) throw new Error(`${server.kind}: pulled ${bytes} bytes, expected ${source.size}`);
        return { values: { mibps: bytes / MiB / seconds } };
      } finally {
        client.agent.destroy();
      }
    },
  };
}
