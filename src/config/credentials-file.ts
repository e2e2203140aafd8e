import { open, rename } from 'node:fs/promises';

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
