/** The security-event aggregate on every store kind: listing by user, time and limit, and pruning. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/crypto/secrets.ts';
import type { Client, SecurityEvent, Store } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { NOW, newUser, openContractStore } from './support.ts';

for (const kind of storeKinds()) {
  describe(`store events [${kind}]`, () => {
    let store: Store;
    let c: Client;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, client: c, close } = await openContractStore(kind));
    });
    after(() => close());

    test('events are listed by user, time and limit', async () => {
      const u = await newUser(store);
      for (let i = 0; i < 3; i++) {
        await store.events.create({
          id: newId('evt_'),
          at: NOW + i,
          type: 'login_failed',
          reason: 'bad_password',
          userId: u.id,
          email: u.email,
          clientId: c.id,
          sessionId: null,
          ip: '127.0.0.1',
          requestId: null,
          actor: null,
          target: null,
          orgId: null,
        });
      }
      assert.equal((await store.events.list({ userId: u.id })).length, 3);
      assert.equal((await store.events.list({ userId: u.id, since: NOW + 1 })).length, 2);
      assert.equal((await store.events.list({ userId: u.id, limit: 1 })).length, 1);
    });

    test('newest: true keeps the newest events under the limit, still in time order', async () => {
      const u = await newUser(store);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = newId('evt_');
        ids.push(id);
        await store.events.create({
          id,
          at: NOW + 100 + i,
          type: 'login_failed',
          reason: 'bad_password',
          userId: u.id,
          email: u.email,
          clientId: c.id,
          sessionId: null,
          ip: null,
          requestId: null,
          actor: null,
          target: null,
          orgId: null,
        });
      }
      const newest = await store.events.list({ userId: u.id, limit: 2, newest: true });
      assert.deepEqual(
        newest.map((e) => e.id),
        ids.slice(3),
      );
      const oldest = await store.events.list({ userId: u.id, limit: 2 });
      assert.deepEqual(
        oldest.map((e) => e.id),
        ids.slice(0, 2),
      );
      // Combined with since: the newest of those since.
      assert.deepEqual(
        (await store.events.list({ userId: u.id, since: NOW + 101, limit: 10, newest: true })).map((e) => e.id),
        ids.slice(1),
      );
    });

    test('an event round-trips, listed in time order; events.prune removes those before a time', async () => {
      const event = (at: number): SecurityEvent => ({
        id: newId('evt_'),
        at,
        type: 'saml_rejected',
        reason: 'expired',
        userId: null,
        email: null,
        clientId: null,
        sessionId: null,
        ip: null,
        requestId: newId('req_'),
        actor: null,
        target: null,
        orgId: null,
      });
      const old = event(NOW - 20_000);
      const older = event(NOW - 30_000);
      const recent = event(NOW - 1_000);
      for (const e of [recent, old, older]) await store.events.create(e);
      assert.deepEqual(await store.events.list({ since: NOW - 30_000, limit: 3 }), [older, old, recent]);
      assert.equal(await store.events.prune(NOW - 10_000), 2);
      assert.deepEqual(await store.events.list({ since: NOW - 30_000, limit: 1 }), [recent]);
      assert.equal(await store.events.prune(NOW - 10_000), 0);
    });
  });
}
