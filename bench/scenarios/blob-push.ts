// Large blob push: monolithic POST + PUT ?digest=, body streamed from a pre-generated file.
// The digest is computed before the clock starts; the clock covers POST through the 201.
import { keepAliveAgent } from '../http-client.js';
import { RegistryClient } from '../registry-client.js';
import type { BenchContext, Measurement, Scenario } from './types.js';

const MiB = 1024 * 1024;

export function blobPush(ctx: BenchContext): Scenario {
  const mib = ctx.config.blobMiB;
  return {
    id: 'blob-push',
    title: `${mib} MiB blob push (monolithic)`,
    metrics: [{ id: 'mibps', label: `${mib} MiB blob push`, unit: 'MiB/s', higherIsBetter: true, targetRatio: 1.2 }],
    async setup() {
      await ctx.blobSource();
    },
    async measure(server, round): Promise<Measurement> {
      const source = await ctx.blobSource();
      const { digest, stream } = source.next();
      const client = new RegistryClient(server, keepAliveAgent(1));
      try {
        const t0 = process.hrtime.bigint();
        await client.pushBlob(`bench/push-r${round}`, digest, source.size, stream());
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        return { values: { mibps: source.size / MiB / seconds } };
      } finally {
        client.agent.destroy();
      }
    },
  };
}
