// Tag listing: walk /v2/<repo>/tags/list?n=<page> by its Link header until there is no next page.
// Setup (one manifest, N tags) is untimed. A server that ignores `n` answers in one page; the
// note under the table says how many pages each server actually returned.
import { randomBytes } from 'node:crypto';
import { header, keepAliveAgent } from '../http-client.js';
import { makeImage, mapLimit, RegistryClient } from '../registry-client.js';
import type { BenchContext, Measurement, Scenario } from './types.js';

const REPO = 'bench/tags';

/** The `rel="next"` target of an RFC 8288 Link header, if any. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;\s*rel="?next"?/.exec(part);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

interface Walk {
  readonly seconds: number;
  readonly pages: number;
  readonly tags: number;
}

async function walk(client: RegistryClient, pageSize: number): Promise<Walk> {
  let next: string | undefined = `/v2/${REPO}/tags/list?n=${pageSize}`;
  let pages = 0;
  const seen = new Set<string>();
  const t0 = process.hrtime.bigint();
  while (next !== undefined) {
    const res = await client.get(next);
    const body = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null };
    for (const t of body.tags ?? []) seen.add(t);
    pages++;
    next = nextLink(header(res, 'link'));
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, pages, tags: seen.size };
}

export function tagList(ctx: BenchContext): Scenario {
  const { tags, tagPageSize } = ctx.config;
  return {
    id: 'tag-list',
    title: `list ${tags} tags, n=${tagPageSize} per page`,
    metrics: [
      { id: 'seconds', label: `list ${tags} tags (total)`, unit: 's', higherIsBetter: false, targetText: 'faster is better' },
      { id: 'pps', label: `list ${tags} tags (pages/s)`, unit: 'pages/s', higherIsBetter: true, targetText: 'faster is better' },
      // Not a speed: shows whether the server paged at all (distribution 2.8 ignores `n`).
      { id: 'pages', label: `list ${tags} tags (pages walked)`, unit: 'pages', higherIsBetter: true, targetText: 'informational' },
    ],
    async setup(server) {
      const client = new RegistryClient(server, keepAliveAgent(16));
      const image = makeImage([randomBytes(4096)]);
      await client.pushImage(REPO, 'base', image);
      const names = Array.from({ length: tags - 1 }, (_, i) => `t${String(i).padStart(6, '0')}`);
      await mapLimit(names, 16, (name) => client.putManifest(REPO, name, image.manifest));
      const check = await walk(client, tagPageSize); // also a warm-up
      client.agent.destroy();
      if (check.tags !== tags) throw new Error(`${server.kind}: listed ${check.tags} tags after setup, expected ${tags}`);
    },
    async measure(server): Promise<Measurement> {
      const client = new RegistryClient(server, keepAliveAgent(1));
      try {
        const w = await walk(client, tagPageSize);
        if (w.tags !== tags) throw new Error(`${server.kind}: listed ${w.tags} tags, expected ${tags}`);
        const note =
          w.pages === 1 && tags > tagPageSize
            ? `${server.kind}: returned all ${w.tags} tags in 1 page (ignores n=${tagPageSize}; no Link pagination)`
            : `${server.kind}: ${w.pages} pages for ${w.tags} tags`;
        return { values: { seconds: w.seconds, pps: w.pages / w.seconds, pages: w.pages }, notes: [note] };
      } finally {
        client.agent.destroy();
      }
    },
  };
}
