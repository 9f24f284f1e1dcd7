/** The browser sessions aggregate (contract §11) on every store kind. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashSecret, newId, newSecret } from '../../src/crypto/secrets.ts';
import type { BrowserSession, Client, Store } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { NOW, newUser, openContractStore, session } from './support.ts';

function browserSession(userId: string, extra: Partial<BrowserSession> = {}): BrowserSession {
  return {
    id: newId('bs_'),
    secretHash: hashSecret(newSecret('browser_session')),
    userId,
    authTime: NOW,
    expiresAt: NOW + 36_000_000,
    endedAt: null,
    createdAt: NOW,
    ...extra,
  };
}

for (const kind of storeKinds()) {
  describe(`store browser sessions [${kind}]`, () => {
    let store: Store;
    let c: Client;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, client: c, close } = await openContractStore(kind));
    });
    after(() => close());

    test('round trip by id and by secret hash; reauthenticate moves auth_time and expiry of a live one only', async () => {
      const u = await newUser(store);
      const b = browserSession(u.id);
      await store.browserSessions.create(b);
      assert.deepEqual(await store.browserSessions.find(b.id), b);
      assert.deepEqual(await store.browserSessions.findBySecret(b.secretHash), b);
      assert.equal(await store.browserSessions.findBySecret(hashSecret('nope')), undefined);
      assert.equal(await store.browserSessions.reauthenticate(b.id, NOW + 1_000, NOW + 99_000), true);
      assert.deepEqual(await store.browserSessions.find(b.id), { ...b, authTime: NOW + 1_000, expiresAt: NOW + 99_000 });
    });

    test('its sessions count once; ending it ends them all (tokens revoked) and nobody else’s', async () => {
      const u = await newUser(store);
      const b = browserSession(u.id);
      await store.browserSessions.create(b);
      const inBrowser = [
        session(u.id, c.id, { browserSessionId: b.id, authTime: NOW }),
        session(u.id, c.id, { browserSessionId: b.id, authTime: NOW }),
      ];
      const alone = session(u.id, c.id);
      for (const s of [...inBrowser, alone]) await store.sessions.create(s);
      await store.tokens.createAccess({
        hash: hashSecret('at-1'),
        sessionId: inBrowser[1]!.id,
        expiresAt: NOW + 60_000,
        createdAt: NOW,
        scope: '',
        audience: 'x',
      });
      assert.equal(await store.sessions.countActive(u.id, NOW), 2, 'two browser-session sessions count once, plus one alone');
      assert.equal(await store.sessions.browserSessionHasActive(b.id, NOW), true);
      assert.equal((await store.sessions.find(inBrowser[0]!.id))?.browserSessionId, b.id);

      const ended = await store.browserSessions.end(b.id, 'browser_logout', NOW + 5);
      assert.deepEqual(ended.sort(), inBrowser.map((s) => s.id).sort());
      assert.equal((await store.browserSessions.find(b.id))?.endedAt, NOW + 5);
      assert.equal((await store.tokens.findAccess(hashSecret('at-1')))?.revokedAt, NOW + 5);
      assert.equal(await store.sessions.browserSessionHasActive(b.id, NOW), false);
      assert.equal(await store.sessions.countActive(u.id, NOW), 1, 'the session of no browser session lives on');
      assert.deepEqual(await store.browserSessions.end(b.id, 'browser_logout', NOW + 9), [], 'ending it again ends nothing');
      assert.equal(await store.browserSessions.reauthenticate(b.id, NOW + 10, NOW + 20), false, 'an ended one is not renewed');
    });

    test('endAllOfUser keeps the one a login continues; prune removes the old ended and expired ones', async () => {
      const u = await newUser(store);
      const keep = browserSession(u.id);
      const other = browserSession(u.id);
      const expired = browserSession(u.id, { expiresAt: NOW - 1 });
      for (const b of [keep, other, expired]) await store.browserSessions.create(b);
      await store.browserSessions.endAllOfUser(u.id, NOW + 1, keep.id);
      assert.equal((await store.browserSessions.find(keep.id))?.endedAt, null);
      assert.equal((await store.browserSessions.find(other.id))?.endedAt, NOW + 1);
      assert.equal((await store.browserSessions.prune(NOW + 2, 100)) >= 2, true);
      assert.equal(await store.browserSessions.find(other.id), undefined);
      assert.equal(await store.browserSessions.find(expired.id), undefined);
      assert.ok(await store.browserSessions.find(keep.id));
    });
  });
}
