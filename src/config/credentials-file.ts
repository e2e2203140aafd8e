import { open, readFile, rename, rm } from 'node:fs/promises';

/**
 * Writes the root key as an AWS shared-credentials file (mode 0600, atomically), so
 * `AWS_SHARED_CREDENTIALS_FILE=<file> aws ecr … --endpoint-url …` works at once. The region line
 * is read by the aws CLI from this file too.
 */
export async function writeCredentialsFile(file: string, creds: { accessKeyId: string; secretAccessKey: string }, region: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`[default]\naws_access_key_id = ${creds.accessKeyId}\naws_secret_access_key = ${creds.secretAccessKey}\nregion = ${region}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

/**
 * Removes `file` if it is a credentials file berth wrote for `accessKeyId` (an earlier release wrote a preset
 * root key's secret there). A file for another key, or none, is left alone. Resolves with whether it removed it.
 */
export async function removeCredentialsFileOf(file: string, accessKeyId: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const id = /^aws_access_key_id\s*=\s*(\S+)\s*$/m.exec(text)?.[1];
  if (id !== accessKeyId) return false;
  await rm(file, { force: true });
  return true;
}
