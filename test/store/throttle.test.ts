/** The login-throttle aggregate on every store kind: lock creates the row, save upserts, prune forgets quiet keys. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/crypto/secrets.ts';
import type { Store } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { N, NOW, openContractStore } from './support.ts';

for (const kind of storeKinds()) {
  describe(`store throttle [${kind}]`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openContractStore(kind));
    });
    after(() => close());

    test('throttle.lock returns an empty state for a new key, and the saved state afterwards', async () => {
      const key = `ip:${newId('')}`;
      assert.equal(await store.throttle.find(key), undefined);
      const empty = await store.transaction((tx) => tx.throttle.lock(key));
      assert.deepEqual(empty, {
        key,
        failures: 0,
        lastFailureAt: 0,
        lockedUntil: 0,
        locks: 0,
        inFlight: 0,
        runFailed: false,
        claimedAt: 0,
      });
      const saved = {
        key,
        failures: 3,
        lastFailureAt: NOW,
        lockedUntil: NOW + 60_000,
        locks: 1,
        inFlight: 2,
        runFailed: true,
        claimedAt: NOW + 1,
      };
      await store.transaction(async (tx) => tx.throttle.save({ ...(await tx.throttle.lock(key)), ...saved }));
      assert.deepEqual(await store.transaction((tx) => tx.throttle.lock(key)), saved);
      assert.deepEqual(await store.throttle.find(key), saved);
    });

    test(`throttle.lock serializes ${N} parallel read-modify-write transactions (no lost update)`, async () => {
      const key = `account:${newId('')}`;
      await Promise.all(
        Array.from({ length: N }, () =>
          store.transaction(async (tx) => {
            const state = await tx.throttle.lock(key);
            await tx.throttle.save({ ...state, failures: state.failures + 1, lastFailureAt: NOW });
          }),
        ),
      );
      assert.equal((await store.throttle.find(key))?.failures, N);
    });

    test(`throttle.lock always returns a row while ${N} other transactions delete it in between`, async () => {
      // A settled lone success deletes the account's row; a claim locking it at that moment must
      // still get a row (PostgreSQL READ COMMITTED: the INSERT saw the row, the SELECT did not).
      const key = `account:lock-vs-delete-${Date.now()}`;
      const results = await Promise.all(
        Array.from({ length: 4 * N }, (_, i) =>
          store.transaction(async (tx) => {
            const state = await tx.throttle.lock(key);
            if (i % 2 === 0) await tx.throttle.delete(key);
            else await tx.throttle.save({ ...state, failures: state.failures + 1 });
            return state.key;
          }),
        ),
      );
      assert.ok(results.every((k) => k === key));
      await store.throttle.delete(key);
    });

    test('throttle.save inserts and overwrites; delete reports whether the key existed', async () => {
      const key = `account:${newId('')}`;
      const idle = { inFlight: 0, runFailed: false, claimedAt: 0 };
      await store.throttle.save({
        key,
        failures: 1,
        lastFailureAt: NOW,
        lockedUntil: 0,
        locks: 0,
        inFlight: 1,
        runFailed: true,
        claimedAt: NOW,
      });
      await store.throttle.save({ key, failures: 2, lastFailureAt: NOW + 1, lockedUntil: NOW + 2, locks: 3, ...idle });
      assert.deepEqual(await store.throttle.find(key), {
        key,
        failures: 2,
        lastFailureAt: NOW + 1,
        lockedUntil: NOW + 2,
        locks: 3,
        ...idle,
      });
      assert.equal(await store.throttle.delete(key), true);
      assert.equal(await store.throttle.delete(key), false);
      assert.equal(await store.throttle.find(key), undefined);
    });

    test('throttle.prune removes keys with neither a recent failure, a lock in force nor a recent claim', async () => {
      const quiet = `ip:${newId('')}`;
      const recentFailure = `ip:${newId('')}`;
      const stillLocked = `ip:${newId('')}`;
      const beingVerified = `account:${newId('')}`;
      const idle = { inFlight: 0, runFailed: false, claimedAt: NOW - 10_000 };
      await store.throttle.save({ key: quiet, failures: 5, lastFailureAt: NOW - 10_000, lockedUntil: NOW - 5_000, locks: 1, ...idle });
      await store.throttle.save({ key: recentFailure, failures: 1, lastFailureAt: NOW, lockedUntil: 0, locks: 0, ...idle });
      await store.throttle.save({
        key: stillLocked,
        failures: 5,
        lastFailureAt: NOW - 10_000,
        lockedUntil: NOW + 10_000,
        locks: 2,
        ...idle,
      });
      // Its first attempt is being verified: no failure or lock yet, but the claim is news.
      await store.throttle.save({
        key: beingVerified,
        failures: 1,
        lastFailureAt: 0,
        lockedUntil: 0,
        locks: 0,
        inFlight: 1,
        runFailed: false,
        claimedAt: NOW,
      });
      const pruned = await store.throttle.prune(NOW - 1);
      assert.equal(pruned, 1);
      assert.equal(await store.throttle.find(quiet), undefined);
      assert.equal((await store.throttle.find(recentFailure))?.failures, 1);
      assert.equal((await store.throttle.find(stillLocked))?.locks, 2);
      assert.equal((await store.throttle.find(beingVerified))?.inFlight, 1);
      assert.equal(await store.throttle.prune(NOW - 1), 0, 'nothing left to prune');
    });
  });
}
