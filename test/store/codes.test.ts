/** The authorization codes aggregate on every store kind: round trip and single use under concurrency. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashSecret, newId, newSecret } from '../../src/crypto/secrets.ts';
import type { AuthorizationCode, Client, Store } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { N, NOW, newUser, openContractStore } from './support.ts';

for (const kind of storeKinds()) {
  describe(`store codes [${kind}]`, () => {
    let store: Store;
    let c: Client;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, client: c, close } = await openContractStore(kind));
    });
    after(() => close());

    test('a code round-trips, and an unknown one is not found', async () => {
      const u = await newUser(store);
      const code: AuthorizationCode = {
        hash: hashSecret(newSecret('authorization_code')),
        clientId: c.id,
        userId: u.id,
        redirectUri: 'https://contract.example/cb?x=1',
        redirectUriGiven: false,
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        expiresAt: NOW + 60_000,
        usedAt: null,
        sessionId: null,
        createdAt: NOW,
        scope: 'openid email',
        browserSessionId: 'bs_contract',
        authTime: NOW - 5_000,
        nonce: 'n-0S6_WzA2Mj',
      };
      await store.codes.create(code);
      assert.deepEqual(await store.codes.find(code.hash), code);
      assert.equal(await store.codes.find(hashSecret(newSecret('authorization_code'))), undefined);
    });

    test(`codes.consume has exactly one winner among ${N} parallel calls`, async () => {
      const u = await newUser(store);
      const hash = hashSecret(newSecret('authorization_code'));
      await store.codes.create({
        hash,
        clientId: c.id,
        userId: u.id,
        redirectUri: 'https://contract.example/cb',
        redirectUriGiven: true,
        codeChallenge: null,
        expiresAt: NOW + 60_000,
        usedAt: null,
        sessionId: null,
        createdAt: NOW,
        scope: '',
      });
      const sessions = Array.from({ length: N }, () => newId('ses_'));
      const wins = await Promise.all(sessions.map((sid) => store.codes.consume(hash, sid, NOW)));
      assert.equal(wins.filter(Boolean).length, 1);
      const winner = sessions[wins.indexOf(true)];
      const code = await store.codes.find(hash);
      assert.equal(code?.usedAt, NOW);
      assert.equal(code?.sessionId, winner);
      assert.equal(await store.codes.consume(hash, newId('ses_'), NOW), false);
    });
  });
}
