/**
 * Logged errors are typed by their `name`: in the bundle, classes carry mangled names
 * (scripts/build.mjs), so pino's `type` (the constructor's name) would read `a` or `Xe`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serializeError } from '../../src/config/logger.js';
import { ConfigError } from '../../src/config/load.js';

describe('the error serializer of the log', () => {
  it('types an error by its name, not by its constructor', () => {
    class Mangled extends Error {
      override readonly name = 'ScanError';
    }
    Object.defineProperty(Mangled, 'name', { value: 'a' });
    const out = serializeError(new Mangled('layer too large'));
    assert.equal(out.type, 'ScanError');
    assert.equal(out.message, 'layer too large');
    assert.match(out.stack, /^ScanError: layer too large/);
    assert.equal(serializeError(new ConfigError(['listen: must be HOST:PORT'])).type, 'ConfigError');
    assert.equal(serializeError(new TypeError('x')).type, 'TypeError');
  });

  it('leaves a value that is not an error as it is', () => {
    const notAnError = { name: 'x', code: 7 };
    assert.equal(serializeError(notAnError as unknown as Error), notAnError);
    assert.deepEqual(notAnError, { name: 'x', code: 7 });
    assert.equal(serializeError('text' as unknown as Error), 'text');
  });
});
