/** The clients aggregate on every store kind: settings round-trip, listing and patches. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client, Store } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { client, NOW, openContractStore } from './support.ts';

for (const kind of storeKinds()) {
  describe(`store clients [${kind}]`, () => {
    let store: Store;
    let c: Client;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, client: c, close } = await openContractStore(kind));
    });
    after(() => close());

    test('client settings round-trip', async () => {
      const custom = client({
        redirectUrls: ['https://a.example/1', 'https://a.example/2'],
        accessTtl: 60,
        refreshTtl: 120,
        tokenType: 'Bearer',
        refreshGrace: 5,
        querySecrets: false,
        refreshTokens: false,
      });
      await store.clients.create(custom);
      assert.deepEqual(await store.clients.find(custom.id), custom);
    });

    test('updates of unknown clients report false', async () => {
      assert.equal(await store.clients.update('cl_nope', { disabled: true }), false);
      assert.equal(await store.clients.update('cl_nope', {}), false);
    });

    test('a patch changes only the fields it names; clients are listed in creation order', async () => {
      const later = client({ createdAt: NOW + 10 });
      await store.clients.create(later);
      assert.equal(await store.clients.update(later.id, { secretHash: 'new-hash' }), true);
      assert.deepEqual(await store.clients.find(later.id), { ...later, secretHash: 'new-hash' });
      assert.equal(await store.clients.update(later.id, { disabled: true }), true);
      assert.deepEqual(await store.clients.find(later.id), { ...later, secretHash: 'new-hash', disabled: true });
      assert.equal(await store.clients.update(later.id, {}), true, 'an empty patch of a known client reports true');
      const ids = (await store.clients.list()).map((x) => x.id);
      assert.ok(ids.includes(c.id));
      assert.equal(ids.at(-1), later.id);
      assert.equal(await store.clients.find('cl_nope'), undefined);
    });
  });
}
