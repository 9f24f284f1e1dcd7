/**
 * The signing-keys aggregate on every store kind: created and listed in activation order, a kid
 * is unique, a key is retired once (one winner among racing callers).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/crypto/secrets.ts';
import { type SigningKeyRecord, type Store, StoreConflictError } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { N, NOW, openContractStore } from './support.ts';

function key(extra: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const kid = newId('');
  return {
    kid,
    alg: 'ES256',
    publicJwk: JSON.stringify({ kty: 'EC', kid }),
    privateJwkSealed: `v1.sealed.${kid}`,
    createdAt: NOW,
    activatesAt: NOW,
    retiredAt: null,
    ...extra,
  };
}

for (const kind of storeKinds()) {
  describe(`store signingKeys [${kind}]`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openContractStore(kind));
    });
    after(() => close());

    test('keys are stored as given and listed by activation time, retired ones included', async () => {
      const later = key({ alg: 'RS256', activatesAt: NOW + 300_000 });
      const first = key({ createdAt: NOW - 1 });
      const retired = key({ alg: 'EdDSA', activatesAt: NOW + 1, retiredAt: NOW + 2 });
      for (const k of [later, retired, first]) await store.signingKeys.create(k);
      const listed = await store.signingKeys.list();
      assert.deepEqual(listed, [first, retired, later]);
    });

    test('a second key with the same kid is a StoreConflictError', async () => {
      const k = key();
      await store.signingKeys.create(k);
      await assert.rejects(store.signingKeys.create(key({ kid: k.kid })), StoreConflictError);
    });

    test('retire: true once, with its time; false for a retired or unknown kid; one winner among racing callers', async () => {
      const k = key();
      await store.signingKeys.create(k);
      assert.equal(await store.signingKeys.retire(k.kid, NOW + 5), true);
      assert.equal(await store.signingKeys.retire(k.kid, NOW + 6), false);
      assert.equal((await store.signingKeys.list()).find((x) => x.kid === k.kid)?.retiredAt, NOW + 5);
      assert.equal(await store.signingKeys.retire('no-such-kid', NOW), false);
      const raced = key();
      await store.signingKeys.create(raced);
      const results = await Promise.all(Array.from({ length: N }, (_, i) => store.signingKeys.retire(raced.kid, NOW + i)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('inside a transaction that rolls back, nothing is written', async () => {
      const k = key();
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.signingKeys.create(k);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.equal(
        (await store.signingKeys.list()).some((x) => x.kid === k.kid),
        false,
      );
    });
  });
}
