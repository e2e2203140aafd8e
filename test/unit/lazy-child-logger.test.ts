/**
 * fastify's per-request logger (src/http/lazy-child-logger.ts) becomes pino's child only when it
 * first writes a line: nothing is made for requests that log nothing, and every line written still
 * carries the request's bindings.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { lazyChildLogger } from '../../src/http/lazy-child-logger.js';

function parentAt(level: string): { parent: FastifyBaseLogger; lines: () => Record<string, unknown>[]; children: () => number } {
  const out: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, done) { out.push(chunk.toString('utf8')); done(); } });
  const parent = pino({ level }, stream) as unknown as FastifyBaseLogger;
  let made = 0;
  // Counted on the parent, called on whichever logger (pino's children inherit from their parent).
  const child = parent.child;
  parent.child = function (this: FastifyBaseLogger, b, o) {
    made++;
    return child.call(this, b, o);
  } as FastifyBaseLogger['child'];
  return { parent, lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), children: () => made };
}

const enabled = (log: FastifyBaseLogger, level: string): boolean => (log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled(level);

describe('lazyChildLogger', () => {
  it('makes no child for a request that writes nothing at the level, and one for all its lines otherwise', () => {
    const { parent, lines, children } = parentAt('error');
    const log = lazyChildLogger(parent, { reqId: 'r-1' }, {});
    log.info({ a: 1 }, 'dropped');
    log.debug('dropped');
    assert.equal(enabled(log, 'info'), false);
    assert.equal(enabled(log, 'error'), true);
    assert.equal(log.level, 'error');
    assert.equal(children(), 0);
    log.error({ code: 7 }, 'kept');
    log.fatal('also kept');
    assert.equal(children(), 1);
    const got = lines();
    assert.deepEqual(got.map((l) => [l['reqId'], l['msg'], l['code']]), [['r-1', 'kept', 7], ['r-1', 'also kept', undefined]]);
  });

  it('a level set on it applies to its lines only', () => {
    const { parent, lines } = parentAt('error');
    const log = lazyChildLogger(parent, { reqId: 'r-2' }, {});
    log.level = 'info';
    log.info('now kept');
    parent.info('parent still at error');
    assert.deepEqual(lines().map((l) => l['msg']), ['now kept']);
    assert.equal(enabled(log, 'info'), true);
  });

  it('options of its own (a route log level) make the child at once', () => {
    const { parent, lines, children } = parentAt('error');
    const log = lazyChildLogger(parent, { reqId: 'r-3' }, { level: 'info' });
    assert.equal(children(), 1);
    log.info('kept at the route level');
    assert.deepEqual(lines().map((l) => [l['reqId'], l['msg']]), [['r-3', 'kept at the route level']]);
  });

  it('children of it carry both bindings', () => {
    const { parent, lines } = parentAt('info');
    lazyChildLogger(parent, { reqId: 'r-4' }, {}).child({ part: 'x' }).info('nested');
    assert.deepEqual(lines().map((l) => [l['reqId'], l['part']]), [['r-4', 'x']]);
  });
});
