/**
 * The dummy hash a sign-in for a missing user or profile verifies against: made without scrypt (start-up
 * time, issue 12), it must cost what verifying a real hash costs (same scheme and parameters, same
 * salt and key lengths) and match no password.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../../src/core/services/console/passwords.js';

describe('console password hashes', () => {
  it('the dummy hash has the shape and cost parameters of a real one and matches no password', async () => {
    const real = await hashPassword('a real password 1!');
    const shape = (h: string) => {
      const [scheme, n, r, p, salt, key] = h.split('$');
      return [scheme, n, r, p, Buffer.from(salt!, 'base64').length, Buffer.from(key!, 'base64').length];
    };
    assert.deepEqual(shape(DUMMY_HASH), shape(real));
    assert.equal(await verifyPassword(real, 'a real password 1!'), true);
    for (const guess of ['', 'a real password 1!', 'password']) assert.equal(await verifyPassword(DUMMY_HASH, guess), false);
  });
});
