import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The master key: `BERTH_MASTER_KEY` (base64 of 32 bytes; every node of a scale-out deployment
 * must share it), else `<dataDir>/master.key`, created with mode 0600 on first start. Losing it
 * makes stored secret access keys unreadable.
 */
export async function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ key: Buffer; source: string }> {
  const fromEnv = env.BERTH_MASTER_KEY;
  if (fromEnv) {
    const key = Buffer.from(fromEnv, 'base64');
    if (key.length !== 32) throw new Error('BERTH_MASTER_KEY must be the base64 encoding of exactly 32 bytes');
    return { key, source: 'BERTH_MASTER_KEY' };
  }
  const file = join(dataDir, 'master.key');
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a base64 32-byte key`);
    return { key, source: file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  // 'wx': never overwrite a key another process created a moment ago.
  const handle = await open(file, 'wx', 0o600).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') return undefined;
    throw err;
  });
  if (!handle) return loadMasterKey(dataDir, env);
  try {
    await handle.writeFile(`${key.toString('base64')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { key, source: file };
}
