/**
 * The behaviour every {@link IdentityStore} must show (AWS IAM semantics). Each implementation's
 * test file calls {@link identityStoreContract} with a factory that opens a fresh, empty store.
 */
import { afterEach, beforeEach, describe } from 'node:test';
import type { IdentityStore } from '../../src/core/ports/identity-store.js';
import { ACCOUNT, OTHER_ACCOUNT, signal } from './identity-store-helpers.js';
import { accessKeyContract } from './identity-store-keys.contract.js';
import { groupContract } from './identity-store-groups.contract.js';
import { policyContract } from './identity-store-policies.contract.js';
import { userContract } from './identity-store-users.contract.js';

/** Registers the IdentityStore contract tests for one implementation. */
export function identityStoreContract(name: string, open: () => Promise<IdentityStore>): void {
  describe(`IdentityStore contract: ${name}`, () => {
    let store: IdentityStore;
    beforeEach(async () => {
      store = await open();
      await store.ensureAccount(ACCOUNT, signal);
      await store.ensureAccount(OTHER_ACCOUNT, signal);
    });
    afterEach(async () => {
      await store.close();
    });
    const ref = () => store;

    userContract(ref);
    accessKeyContract(ref);
    groupContract(ref);
    policyContract(ref);
  });
}
