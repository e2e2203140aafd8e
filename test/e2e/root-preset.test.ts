/**
 * First start: the root key is created and written to `<data>/credentials` (0600), or preset by
 * `BERTH_ROOT_ACCESS_KEY_ID`/`BERTH_ROOT_SECRET_ACCESS_KEY`; the aws CLI works with the file at once,
 * and a restart keeps the same key without rewriting the file.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { awsJson } from './aws-helpers.js';
import { BerthServer } from './harness.js';

const PRESET = { id: 'AKIAPRESETROOTKEY234', secret: 'preset/secret/of/forty/characters/abcdef' };

describe('root credentials on first start', { timeout: 120_000 }, () => {
  const servers: BerthServer[] = [];
  after(async () => {
    for (const s of servers) await s.dispose();
  });

  it('a generated root key lands in <data>/credentials with mode 0600 and the aws CLI uses it as is', async () => {
    const server = await BerthServer.start();
    servers.push(server);
    const file = join(server.dataDir, 'credentials');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), /^\[default\]\naws_access_key_id = AKIA[A-Z2-7]{16}\naws_secret_access_key = \S{40}\nregion = us-east-1\n$/);
    const me = await awsJson<{ Arn: string; Account: string }>(server, ['sts', 'get-caller-identity']);
    assert.deepEqual(me, { UserId: '000000000000', Account: '000000000000', Arn: 'arn:aws:iam::000000000000:root' });
    const before = readFileSync(file, 'utf8');
    await server.stop();
    await server.launch();
    assert.equal(readFileSync(file, 'utf8'), before, 'a restart keeps the key and the file');
    await awsJson(server, ['ecr', 'describe-repositories']);
  });

  it('BERTH_ROOT_ACCESS_KEY_ID/SECRET preset the root key, and the log never shows the secret', async () => {
    const server = await BerthServer.start({ env: { BERTH_ROOT_ACCESS_KEY_ID: PRESET.id, BERTH_ROOT_SECRET_ACCESS_KEY: PRESET.secret } });
    servers.push(server);
    const text = readFileSync(join(server.dataDir, 'credentials'), 'utf8');
    assert.match(text, new RegExp(`aws_access_key_id = ${PRESET.id}\\naws_secret_access_key = ${PRESET.secret}\\n`));
    const me = await awsJson<{ Arn: string }>(server, ['sts', 'get-caller-identity']);
    assert.equal(me.Arn, 'arn:aws:iam::000000000000:root');
    assert.ok(!server.log().includes(PRESET.secret), 'the secret appears in the server log');
    for (const f of ['meta.db', 'meta.db-wal']) {
      assert.ok(!readFileSync(join(server.dataDir, f)).includes(Buffer.from(PRESET.secret)), `the secret is stored in plaintext in ${f}`);
    }
  });
});
