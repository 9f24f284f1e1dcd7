/**
 * The accounts aggregates (orgs, users) on every store kind: case-insensitive email uniqueness,
 * patches, and transactions that roll back as a whole.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/crypto/secrets.ts';
import { type Store, StoreConflictError } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { NOW, openContractStore, user } from './support.ts';

for (const kind of storeKinds()) {
  describe(`store accounts [${kind}]`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openContractStore(kind));
    });
    after(() => close());

    test('email uniqueness is case-insensitive: StoreConflictError', async () => {
      await store.users.create(user('Case.Test@Example.com'));
      await assert.rejects(store.users.create(user('case.test@example.COM')), StoreConflictError);
      await assert.rejects(store.users.create(user('  CASE.TEST@EXAMPLE.COM ')), StoreConflictError);
      assert.equal((await store.users.findByEmail('CASE.test@example.com'))?.email, 'Case.Test@Example.com');
    });

    test('a conflicting user inside a transaction rolls the whole transaction back', async () => {
      const email = `rollback-${newId('')}@example.com`;
      await store.users.create(user(email));
      const org = { id: newId('org_'), name: 'rolled back', maxSessions: null, createdAt: NOW };
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.orgs.create(org);
          await tx.users.create(user(email.toUpperCase()));
        }),
        StoreConflictError,
      );
      assert.equal(await store.orgs.find(org.id), undefined);
    });

    test('a transaction whose function throws commits nothing', async () => {
      const u = user(`thrown-${newId('')}@example.com`);
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.users.create(u);
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.equal(await store.users.find(u.id), undefined);
    });

    test('updates of unknown rows report false', async () => {
      assert.equal(await store.users.update('usr_nope', { disabled: true }), false);
      assert.equal(await store.orgs.update('org_nope', { maxSessions: 1 }), false);
    });

    test('orgs: created, found, listed in creation order and updated', async () => {
      const first = { id: newId('org_'), name: 'first', maxSessions: 2, createdAt: NOW + 1, version: 1 };
      const second = { id: newId('org_'), name: 'second', maxSessions: null, createdAt: NOW + 2 };
      await store.orgs.create(second);
      await store.orgs.create(first);
      assert.deepEqual(await store.orgs.find(first.id), first);
      const listed = (await store.orgs.list()).map((o) => o.id);
      assert.ok(listed.indexOf(first.id) < listed.indexOf(second.id), 'ordered by creation time');
      assert.equal(await store.orgs.update(first.id, { maxSessions: null }), true);
      assert.equal((await store.orgs.find(first.id))?.maxSessions, null);
      assert.equal(await store.orgs.update(second.id, {}), true, 'an empty patch of a known org reports true');
      assert.equal(await store.orgs.update('org_nope', {}), false);
    });

    test('users: a patch changes only the fields it names; list filters by organization', async () => {
      const org = { id: newId('org_'), name: 'users', maxSessions: null, createdAt: NOW };
      await store.orgs.create(org);
      const b = user(`b-${newId('')}@example.com`, { orgId: org.id, passwordHash: 'hash-b' });
      const a = user(`a-${newId('')}@example.com`, { orgId: org.id, maxSessions: 3 });
      await store.users.create(b);
      await store.users.create(a);
      assert.deepEqual(await store.users.find(a.id), a);
      assert.deepEqual(
        (await store.users.list(org.id)).map((u) => u.id),
        [a.id, b.id],
        'ordered by email',
      );
      assert.ok((await store.users.list()).length >= 2);
      assert.equal(await store.users.update(b.id, { disabled: true, maxSessions: 1 }), true);
      assert.deepEqual(await store.users.find(b.id), { ...b, disabled: true, maxSessions: 1 });
      assert.equal(await store.users.update(b.id, { passwordHash: null }), true);
      assert.equal((await store.users.find(b.id))?.passwordHash, null);
      assert.equal(await store.users.update(b.id, {}), true, 'an empty patch of a known user reports true');
      assert.equal(await store.users.update('usr_nope', {}), false);
    });
  });
}
