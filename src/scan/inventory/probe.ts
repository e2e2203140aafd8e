import { auditableScanner } from './cargo-auditable.js';
import { goBuildInfoScanner } from './go.js';

/**
 * Streams an executable once past every binary scanner (Go build info, `cargo auditable` data) and
 * keeps what the first one that recognises it found; `undefined` for any other executable.
 */
export async function probeExecutable(body: AsyncIterable<Buffer>): Promise<Buffer | undefined> {
  const scanners = [goBuildInfoScanner(), auditableScanner()];
  for await (const chunk of body) for (const s of scanners) s.push(chunk);
  for (const s of scanners) {
    const kept = s.result();
    if (kept) return kept;
  }
  return undefined;
}
