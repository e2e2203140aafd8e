import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

describe('configuration loading', () => {
  it('defaults apply with no file, env or flags', async () => {
    const c = await loadConfig({ env: {} });
    assert.equal(c.listen, '127.0.0.1:5000');
    assert.equal(c.dataDir, './data');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.limits));
  });

  it('layers apply in order: file < env < flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-cfg-'));
    const file = join(dir, 'berth.yaml');
    await writeFile(file, 'listen: 127.0.0.1:6000\ndataDir: /from/file\nlog: { level: warn }\n');
    const fileOnly = await loadConfig({ file, env: {} });
    assert.equal(fileOnly.listen, '127.0.0.1:6000');
    assert.equal(fileOnly.log.level, 'warn');
    const withEnv = await loadConfig({ file, env: { BERTH_LISTEN: '0.0.0.0:7000', BERTH_DATA_DIR: '/from/env' } });
    assert.equal(withEnv.listen, '0.0.0.0:7000');
    assert.equal(withEnv.dataDir, '/from/env');
    const withFlags = await loadConfig({ file, env: { BERTH_DATA_DIR: '/from/env' }, flags: { dataDir: '/from/flag' } });
    assert.equal(withFlags.dataDir, '/from/flag');
  });

  it('names every bad field at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-cfg-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'listen: nowhere\nlog: { level: loud }\nlimits: { maxPageSize: 0 }\nbogus: 1\n');
    await assert.rejects(loadConfig({ file, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      for (const field of ['listen', 'log.level', 'limits.maxPageSize', 'bogus']) assert.match(text, new RegExp(field.replace('.', '\\.')));
      assert.match(text, /^bogus: unknown key$/m);
      assert.match(text, /^listen: must be HOST:PORT$/m);
      return true;
    });
  });

  it('a missing file or invalid YAML is a ConfigError, not a crash', async () => {
    await assert.rejects(loadConfig({ file: '/nonexistent/berth.yaml', env: {} }), ConfigError);
    const dir = await mkdtemp(join(tmpdir(), 'berth-cfg-'));
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'listen: [unclosed\n');
    await assert.rejects(loadConfig({ file, env: {} }), ConfigError);
  });
});
