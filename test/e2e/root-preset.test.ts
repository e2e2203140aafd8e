/**
 * First start: the root key is created and written to `<data>/credentials` (0600); the aws CLI works with
 * the file at once, and a restart keeps the same key without rewriting the file. A key preset by
 * `BERTH_ROOT_ACCESS_KEY_ID`/`BERTH_ROOT_SECRET_ACCESS_KEY` is the operator's: its secret is written to no
 * file (issue 6 finding 8), and a copy an earlier release left in `<data>/credentials` is removed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { awsJson } from './aws-helpers.js';
import { BerthServer, makeTempDir } from './harness.js';

const PRESET = { id: 'AKIAPRESETROOTKEY234', secret: 'preset/secret/of/forty/characters/abcdef' };

describe('root credentials on first start', { timeout: 600_000 }, () => {
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

  it('BERTH_ROOT_ACCESS_KEY_ID/SECRET preset the root key; its secret is in no file of the data dir and never in the log', async () => {
    const env = { BERTH_ROOT_ACCESS_KEY_ID: PRESET.id, BERTH_ROOT_SECRET_ACCESS_KEY: PRESET.secret };
    const server = await BerthServer.start({ env });
    servers.push(server);
    assert.ok(!existsSync(join(server.dataDir, 'credentials')), 'a credentials file was written for a preset key');
    // The aws CLI works the documented way for a preset key: the operator's own environment.
    const me = await awsJson<{ Arn: string }>(server, ['sts', 'get-caller-identity'], {
      env: { AWS_SHARED_CREDENTIALS_FILE: join(server.root, 'none'), AWS_PROFILE: undefined, AWS_ACCESS_KEY_ID: PRESET.id, AWS_SECRET_ACCESS_KEY: PRESET.secret, AWS_DEFAULT_REGION: 'us-east-1' },
    });
    assert.equal(me.Arn, 'arn:aws:iam::000000000000:root');
    assert.ok(!server.log().includes(PRESET.secret), 'the secret appears in the server log');
    await server.stop();
    await server.launch({ env });
    for (const f of readdirSync(server.dataDir, { recursive: true, withFileTypes: true })) {
      if (!f.isFile()) continue;
      const path = join(f.parentPath, f.name);
      assert.ok(!readFileSync(path).includes(Buffer.from(PRESET.secret)), `the secret is stored in plaintext in ${path}`);
    }
  });

  it('a credentials file an earlier release wrote with the preset secret is removed at start; one for another key is kept', async () => {
    const dataDir = join(makeTempDir(), 'data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, 'credentials');
    writeFileSync(file, `[default]\naws_access_key_id = ${PRESET.id}\naws_secret_access_key = ${PRESET.secret}\nregion = us-east-1\n`, { mode: 0o600 });
    const env = { BERTH_ROOT_ACCESS_KEY_ID: PRESET.id, BERTH_ROOT_SECRET_ACCESS_KEY: PRESET.secret };
    const server = await BerthServer.start({ dataDir, env });
    servers.push(server);
    assert.ok(!existsSync(file), 'the stale copy of the preset secret is still on disk');
    const other = '[default]\naws_access_key_id = AKIAOTHERKEY00000000\naws_secret_access_key = x\nregion = us-east-1\n';
    writeFileSync(file, other, { mode: 0o600 });
    await server.stop();
    await server.launch({ env });
    assert.equal(readFileSync(file, 'utf8'), other);
  });
});
