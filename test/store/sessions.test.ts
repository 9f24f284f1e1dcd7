/**
 * The sessions and tokens aggregates on every store kind: which sessions are active, ending them
 * (with their tokens), the rotation compare-and-swap under concurrency, and the atomic
 * session-limit check.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashSecret, newSecret } from '../../src/crypto/secrets.ts';
import type { Client, Store, User } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { newUser as addUser, client, N, NOW, openContractStore, session } from './support.ts';

for (const kind of storeKinds()) {
  describe(`store sessions and tokens [${kind}]`, () => {
    let store: Store;
    let c: Client;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, client: c, close } = await openContractStore(kind));
    });
    after(() => close());
    const newUser = (extra: Partial<User> = {}) => addUser(store, extra);

    test('active sessions exclude ended and expired ones', async () => {
      const u = await newUser();
      const live = session(u.id, c.id);
      const expired = session(u.id, c.id, { expiresAt: NOW - 1 });
      const ended = session(u.id, c.id);
      for (const s of [live, expired, ended]) await store.sessions.create(s);
      assert.equal(await store.sessions.end(ended.id, 'logout', NOW), true);
      assert.equal(await store.sessions.countActive(u.id, NOW), 1);
      assert.deepEqual(
        (await store.sessions.listActive(u.id, NOW)).map((s) => s.id),
        [live.id],
      );
      assert.equal(await store.sessions.countActive(u.id, NOW + 3_600_000), 0, 'at its expiry a session no longer counts');
    });

    test('sessions.countAllActive counts the active sessions of every user', async () => {
      const already = await store.sessions.countAllActive(NOW);
      const a = await newUser();
      const b = await newUser();
      await store.sessions.create(session(a.id, c.id));
      await store.sessions.create(session(b.id, c.id));
      await store.sessions.create(session(b.id, c.id, { expiresAt: NOW - 1 }));
      assert.equal(await store.sessions.countAllActive(NOW), already + 2);
      assert.equal(await store.transaction((tx) => tx.sessions.countAllActive(NOW)), already + 2, 'also inside a transaction');
    });

    test('sessions.extend moves the expiry later, never earlier', async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.sessions.create(s);
      assert.deepEqual(await store.sessions.find(s.id), s);
      await store.sessions.extend(s.id, s.expiresAt + 1000);
      assert.equal((await store.sessions.find(s.id))?.expiresAt, s.expiresAt + 1000);
      await store.sessions.extend(s.id, s.expiresAt - 1000);
      assert.equal((await store.sessions.find(s.id))?.expiresAt, s.expiresAt + 1000);
      assert.equal(await store.sessions.find('ses_nope'), undefined);
    });

    test('ending a session revokes its tokens and happens once', async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.sessions.create(s);
      const access = hashSecret(newSecret('access_token'));
      const refresh = hashSecret(newSecret('refresh_token'));
      await store.tokens.createAccess({
        hash: access,
        sessionId: s.id,
        expiresAt: s.expiresAt,
        createdAt: NOW,
        scope: '',
        audience: 'https://aud.example',
      });
      await store.tokens.createRefresh({ hash: refresh, sessionId: s.id, expiresAt: s.expiresAt, createdAt: NOW });
      assert.equal(await store.sessions.end(s.id, 'admin', NOW + 1), true);
      assert.equal(await store.sessions.end(s.id, 'admin', NOW + 2), false);
      assert.equal((await store.tokens.findAccess(access))?.revokedAt, NOW + 1);
      assert.equal((await store.tokens.findRefresh(refresh))?.revokedAt, NOW + 1);
      assert.equal((await store.sessions.find(s.id))?.endReason, 'admin');
    });

    test("sessions.endAllOfUser ends exactly the user's active sessions and returns their ids", async () => {
      const u = await newUser();
      const other = await newUser();
      const a = session(u.id, c.id);
      const b = session(u.id, c.id);
      const theirs = session(other.id, c.id);
      for (const s of [a, b, theirs]) await store.sessions.create(s);
      assert.deepEqual((await store.sessions.endAllOfUser(u.id, 'end_other_sessions', NOW)).sort(), [a.id, b.id].sort());
      assert.deepEqual(await store.sessions.endAllOfUser(u.id, 'end_other_sessions', NOW), []);
      assert.equal(await store.sessions.countActive(other.id, NOW), 1);
    });

    test("sessions.endAllOfClient ends exactly the client's active sessions, revokes their tokens, and returns them with their users", async () => {
      const other = client();
      const mine = client();
      for (const x of [other, mine]) await store.clients.create(x);
      const u = await newUser();
      const v = await newUser();
      const a = session(u.id, mine.id);
      const b = session(v.id, mine.id);
      const done = session(u.id, mine.id);
      const theirs = session(u.id, other.id);
      for (const s of [a, b, done, theirs]) await store.sessions.create(s);
      await store.sessions.end(done.id, 'logout', NOW);
      const tokens = [a, b, theirs].map((s) => ({
        s,
        access: hashSecret(newSecret('access_token')),
        refresh: hashSecret(newSecret('refresh_token')),
      }));
      for (const t of tokens) {
        await store.tokens.createAccess({
          hash: t.access,
          sessionId: t.s.id,
          expiresAt: NOW + 60_000,
          createdAt: NOW,
          scope: '',
          audience: 'https://aud.example',
        });
        await store.tokens.createRefresh({ hash: t.refresh, sessionId: t.s.id, expiresAt: NOW + 60_000, createdAt: NOW });
      }
      const ended = await store.sessions.endAllOfClient(mine.id, 'client_disabled', NOW + 1);
      assert.deepEqual(
        ended.sort((x, y) => x.id.localeCompare(y.id)),
        [
          { id: a.id, userId: u.id },
          { id: b.id, userId: v.id },
        ].sort((x, y) => x.id.localeCompare(y.id)),
      );
      assert.deepEqual(await store.sessions.endAllOfClient(mine.id, 'client_disabled', NOW + 2), []);
      assert.equal((await store.sessions.find(a.id))?.endReason, 'client_disabled');
      assert.equal((await store.sessions.find(done.id))?.endReason, 'logout', 'an ended session keeps its reason');
      for (const t of tokens) {
        const revoked = t.s.clientId === mine.id ? NOW + 1 : null;
        assert.equal((await store.tokens.findAccess(t.access))?.revokedAt, revoked);
        assert.equal((await store.tokens.findRefresh(t.refresh))?.revokedAt, revoked);
      }
      assert.equal((await store.sessions.find(theirs.id))?.endedAt, null, "another client's session lives on");
    });

    test('service tokens (contract §8): round trip, single-winner revoke, revoke all of a client, prune', async () => {
      const mk = (expiresAt: number) => ({
        hash: hashSecret(newSecret('access_token')),
        clientId: c.id,
        scope: 'jobs:run',
        audience: 'https://aud.example',
        expiresAt,
        revokedAt: null,
        createdAt: NOW,
      });
      const live = mk(NOW + 60_000);
      const old = mk(NOW - 1);
      await store.tokens.createService(live);
      await store.tokens.createService(old);
      assert.deepEqual(await store.tokens.findService(live.hash), live);
      assert.equal(await store.tokens.findService(hashSecret('nope')), undefined);
      assert.equal(await store.tokens.findAccess(live.hash), undefined, 'a service token is not a session token');
      const other = mk(NOW + 60_000);
      await store.tokens.createService(other);
      assert.equal(await store.tokens.revokeService(other.hash, NOW + 1), true);
      assert.equal(await store.tokens.revokeService(other.hash, NOW + 2), false);
      assert.equal(await store.tokens.revokeAllServiceOf(c.id, NOW + 3), 1, 'only the live, unrevoked one');
      assert.equal((await store.tokens.findService(live.hash))?.revokedAt, NOW + 3);
      assert.equal(await store.tokens.pruneService(NOW, 100), 1, 'the expired one');
      assert.equal(await store.tokens.findService(old.hash), undefined);
    });

    test('tokens are found with their session and user; an access token is revoked once', async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.sessions.create(s);
      const access = hashSecret(newSecret('access_token'));
      await store.tokens.createAccess({
        hash: access,
        sessionId: s.id,
        expiresAt: NOW + 60_000,
        createdAt: NOW,
        scope: 'read write',
        audience: 'https://aud.example',
      });
      assert.deepEqual(await store.tokens.findAccess(access), {
        hash: access,
        sessionId: s.id,
        expiresAt: NOW + 60_000,
        revokedAt: null,
        createdAt: NOW,
        rotatedAt: null,
        successor: null,
        scope: 'read write',
        audience: 'https://aud.example',
        session: s,
        email: u.email,
      });
      assert.equal(await store.tokens.revokeAccess(access, NOW + 5), true);
      assert.equal(await store.tokens.revokeAccess(access, NOW + 6), false);
      assert.equal((await store.tokens.findAccess(access))?.revokedAt, NOW + 5);
      assert.equal(await store.tokens.findAccess(hashSecret(newSecret('access_token'))), undefined);
      assert.equal(await store.tokens.findRefresh(access), undefined, 'an access token is not a refresh token');
    });

    test(`tokens.rotateRefresh has exactly one winner among ${N} parallel calls`, async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.sessions.create(s);
      const hash = hashSecret(newSecret('refresh_token'));
      await store.tokens.createRefresh({ hash, sessionId: s.id, expiresAt: s.expiresAt, createdAt: NOW });
      const wins = await Promise.all(Array.from({ length: N }, (_, i) => store.tokens.rotateRefresh(hash, NOW + i, null)));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.notEqual((await store.tokens.findRefresh(hash))?.rotatedAt, null);
    });

    test(`tokens.rotateRefresh has exactly one winner among ${N} parallel transactions`, async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.sessions.create(s);
      const hash = hashSecret(newSecret('refresh_token'));
      await store.tokens.createRefresh({ hash, sessionId: s.id, expiresAt: s.expiresAt, createdAt: NOW });
      const wins = await Promise.all(Array.from({ length: N }, () => store.transaction((tx) => tx.tokens.rotateRefresh(hash, NOW, null))));
      assert.equal(wins.filter(Boolean).length, 1);
    });

    test('a revoked refresh token cannot be rotated', async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.sessions.create(s);
      const hash = hashSecret(newSecret('refresh_token'));
      await store.tokens.createRefresh({ hash, sessionId: s.id, expiresAt: s.expiresAt, createdAt: NOW });
      assert.equal(await store.tokens.revokeRefresh(hash, NOW), true);
      assert.equal(await store.tokens.rotateRefresh(hash, NOW, null), false);
    });

    test(`the session-limit transaction (lock, count, insert) admits exactly one of ${N} parallel starts`, async () => {
      const u = await newUser({ maxSessions: 1 });
      const results = await Promise.all(
        Array.from({ length: N }, () =>
          store.transaction(async (tx) => {
            await tx.users.lock(u.id);
            if ((await tx.sessions.countActive(u.id, NOW)) >= 1) return false;
            await tx.sessions.create(session(u.id, c.id));
            return true;
          }),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.sessions.countActive(u.id, NOW), 1);
    });
  });
}
