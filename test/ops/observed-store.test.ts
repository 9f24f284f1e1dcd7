/**
 * The event observer behind the security-event metrics: it hears of an event only once the
 * event is durable, so a rolled-back login or reuse detection never shows in the metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import { securityEvent } from '../../src/events/security-event.ts';
import { observeEvents } from '../../src/store/observed-store.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { SecurityEvent, Store } from '../../src/store/store.ts';
import { freshDatabase, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`observed store (${kind})`, () => {
    let raw: Store;
    let drop: () => Promise<void>;
    const heard: SecurityEvent[] = [];
    let store: Store;
    before(async () => {
      const db = await freshDatabase(kind);
      drop = db.drop;
      raw = await openStore({ databaseUrl: db.url, now: systemClock.now() });
      store = observeEvents(raw, (e) => heard.push(e));
    });
    after(async () => {
      await raw.close();
      await drop();
    });

    test('an event written outside a transaction is reported once written', async () => {
      heard.length = 0;
      const event = securityEvent('saml_rejected', Date.now(), { reason: 'bad_signature' });
      await store.events.create(event);
      assert.deepEqual(
        heard.map((e) => e.id),
        [event.id],
      );
    });

    test('events of a transaction are reported after it commits, not before', async () => {
      heard.length = 0;
      const a = securityEvent('session_ended', Date.now(), { reason: 'logout' });
      const b = securityEvent('refresh_token_reused', Date.now(), { reason: 'rotated_token_presented' });
      const result = await store.transaction(async (tx) => {
        await tx.events.create(a);
        await tx.events.create(b);
        assert.equal(heard.length, 0, 'nothing is reported while the transaction is open');
        return 'done';
      });
      assert.equal(result, 'done');
      assert.deepEqual(
        heard.map((e) => e.id),
        [a.id, b.id],
      );
    });

    test('events of a rolled-back transaction are never reported (nor stored)', async () => {
      heard.length = 0;
      const event = securityEvent('session_ended', Date.now(), { reason: 'end_other_sessions' });
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.events.create(event);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.equal(heard.length, 0);
      assert.ok(!(await raw.events.list({})).some((e) => e.id === event.id));
    });

    test('an observer that throws never fails the write', async () => {
      const throwing = observeEvents(raw, () => {
        throw new Error('metrics broke');
      });
      const event = securityEvent('saml_rejected', Date.now(), { reason: 'expired' });
      await throwing.events.create(event);
      assert.ok((await raw.events.list({})).some((e) => e.id === event.id));
    });

    test('every other method passes through to the store', async () => {
      assert.equal(store.kind, kind);
      await store.ping();
      assert.equal(await store.sessions.countAllActive(Date.now()), await raw.sessions.countAllActive(Date.now()));
    });
  });
}
