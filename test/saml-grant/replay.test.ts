/**
 * Replay of SAML bearer assertions through POST /oauth/token (issue #4 item 3): each assertion ID
 * is accepted once until it expires — whatever wrapping or grant type name carries it, under
 * concurrency, after the server restarts on the same database, and after the maintenance loop
 * prunes the replay records (issue #13 item 4: a record lives as long as any part of its
 * assertion could still be accepted).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMaintenance } from '../../src/maintenance/maintenance.ts';
import { freshDatabase, introspect, type Seeded, storeKinds } from '../support/harness.ts';
import { b64, b64url, newId, responseWithSignedAssertion, responseXml, signedAssertion, signedResponse } from '../support/test-idp.ts';
import {
  assertDocumentNotEchoed,
  assertSamlRejected,
  assertSeedTokenResponse,
  registerIdp,
  type SamlHarness,
  samlHarness,
  samlLogin,
  signatureValues,
} from './support.ts';

for (const kind of storeKinds()) {
  describe(`SAML bearer grant: replay [${kind}]`, () => {
    let h: SamlHarness;
    let s: Seeded;
    before(async () => {
      h = await samlHarness(kind);
      await registerIdp(h);
      s = await h.seed({ email: `saml-replay-${Date.now()}@example.com` });
    });
    after(() => h.close());

    const now = () => h.clock.now();

    test('the same assertion a second time: invalid_grant, reason replayed, and the first token stays valid', async () => {
      const encoded = b64(responseWithSignedAssertion({ now: now(), email: s.email }));
      const first = assertSeedTokenResponse(await samlLogin(h, s, 'SAMLResponse', encoded), s.email);
      const again = await samlLogin(h, s, 'SAMLResponse', encoded);
      const event = await assertSamlRejected(h, again, 'replayed');
      assert.equal(event.userId, s.userId, 'the replay event names the user the assertion was for');
      assert.equal(event.email, s.email);
      assert.equal((await introspect(h, s, first.access_token)).json().active, true, 'a replay attempt does not end the real session');
      const xml = Buffer.from(encoded, 'base64').toString('utf8');
      await assertDocumentNotEchoed(h, again, encoded, [...(xml.match(/_[0-9a-f]{32}/g) ?? []), ...signatureValues(xml)]);
    });

    test('the same signed assertion in another wrapping or under the other grant type name is still a replay', async () => {
      const id = newId();
      const assertion = signedAssertion({ now: now(), email: s.email, id });
      assertSeedTokenResponse(await samlLogin(h, s, 'SAMLAssertion', b64(assertion)), s.email);
      // The replay cache keys on (issuer, assertion ID), not on the bytes of the parameter.
      await assertSamlRejected(h, await samlLogin(h, s, 'SAMLResponse', b64(responseXml(assertion, { now: now() }))), 'replayed');
      await assertSamlRejected(h, await samlLogin(h, s, 'assertion', b64url(assertion)), 'replayed');
      // A fresh signature over an assertion reusing that ID is a replay too.
      await assertSamlRejected(
        h,
        await samlLogin(h, s, 'SAMLResponse', b64(signedResponse({ now: now(), email: s.email, id }))),
        'replayed',
      );
    });

    test('another assertion for the same user is accepted (the cache is per assertion, not per user)', async () => {
      assertSeedTokenResponse(
        await samlLogin(h, s, 'SAMLResponse', b64(responseWithSignedAssertion({ now: now(), email: s.email }))),
        s.email,
      );
      assertSeedTokenResponse(
        await samlLogin(h, s, 'SAMLResponse', b64(responseWithSignedAssertion({ now: now(), email: s.email }))),
        s.email,
      );
    });

    test('a replay by another client is refused as well', async () => {
      const other = await h.seed();
      const encoded = b64url(signedAssertion({ now: now(), email: s.email }));
      assertSeedTokenResponse(await samlLogin(h, s, 'assertion', encoded), s.email);
      await assertSamlRejected(
        h,
        await samlLogin(h, { clientId: other.clientId, clientSecret: other.clientSecret }, 'assertion', encoded),
        'replayed',
      );
    });

    test('ten concurrent submissions of one assertion: exactly one token', async () => {
      const encoded = b64(responseWithSignedAssertion({ now: now(), email: s.email }));
      const results = await Promise.all(Array.from({ length: 10 }, () => samlLogin(h, s, 'SAMLResponse', encoded)));
      const statuses = results.map((r) => r.statusCode);
      assert.equal(statuses.filter((c) => c === 200).length, 1, `statuses: ${statuses.join(',')}`);
      for (const r of results.filter((x) => x.statusCode !== 200)) await assertSamlRejected(h, r, 'replayed');
    });

    test('once expired, a used assertion is refused as expired (the cache need not outlive it)', async () => {
      const encoded = b64(responseWithSignedAssertion({ now: now(), email: s.email }));
      assertSeedTokenResponse(await samlLogin(h, s, 'SAMLResponse', encoded), s.email);
      h.clock.advance(5 * 60_000 + 60_000);
      try {
        await assertSamlRejected(h, await samlLogin(h, s, 'SAMLResponse', encoded), 'expired');
      } finally {
        h.clock.advance(-(5 * 60_000 + 60_000));
      }
    });
  });

  describe(`SAML bearer grant: replay records outlive pruning [${kind}]`, () => {
    const MINUTE = 60_000;
    const policy = { eventRetentionDays: 90, throttleWindowMs: 15 * MINUTE };
    let h: SamlHarness;
    let s: Seeded;
    let issuer: string;
    before(async () => {
      h = await samlHarness(kind);
      issuer = (await registerIdp(h)).entityId;
      s = await h.seed({ email: `saml-prune-${Date.now()}@example.com` });
    });
    after(() => h.close());

    test('two bearer confirmations (1 min, 10 min): accepted once; after the prune at minute 2, refused as replayed at minute 3', async () => {
      const t0 = h.clock.now();
      const encoded = b64(
        responseWithSignedAssertion({
          now: t0,
          email: s.email,
          notOnOrAfter: t0 + 10 * MINUTE,
          confirmationNotOnOrAfter: t0 + MINUTE,
          extraConfirmations: [{ notOnOrAfter: t0 + 10 * MINUTE }],
        }),
      );
      const first = assertSeedTokenResponse(await samlLogin(h, s, 'SAMLResponse', encoded), s.email);
      // Just past minute 2: the first confirmation's expiry plus the 60 s skew has passed.
      h.clock.set(t0 + 2 * MINUTE + 1_000);
      await runMaintenance(h.store, h.clock, policy);
      // At minute 3 the second confirmation is the one that would be honoured.
      h.clock.set(t0 + 3 * MINUTE);
      await assertSamlRejected(h, await samlLogin(h, s, 'SAMLResponse', encoded), 'replayed');
      assert.equal((await introspect(h, s, first.access_token)).json().active, true);
      // The prune is real: once no part of the assertion can be accepted (IssueInstant + the 1 h
      // lifetime cap + skew is the latest part here), the record goes.
      h.clock.set(t0 + 62 * MINUTE);
      const pruned = await runMaintenance(h.store, h.clock, policy);
      assert.ok((pruned.samlReplay ?? 0) >= 1, JSON.stringify(pruned));
    });

    test('Conditions later than the confirmations: the record survives a prune until Conditions/@NotOnOrAfter', async () => {
      const t0 = h.clock.now();
      const id = newId();
      const encoded = b64(
        responseWithSignedAssertion({ now: t0, id, email: s.email, notOnOrAfter: t0 + 90 * MINUTE, confirmationNotOnOrAfter: t0 + MINUTE }),
      );
      assertSeedTokenResponse(await samlLogin(h, s, 'SAMLResponse', encoded), s.email);
      // Past the confirmation (1 min) and past IssueInstant + the 1 h cap, before Conditions (90 min).
      h.clock.set(t0 + 75 * MINUTE);
      await runMaintenance(h.store, h.clock, policy);
      assert.equal(await h.store.replay.claim(issuer, id, t0 + 90 * MINUTE), false, 'the replay record is still there');
    });
  });

  describe(`SAML bearer grant: replay across a restart [${kind}]`, () => {
    test('an assertion used before the restart is refused after it (the cache is in the store)', async () => {
      const db = await freshDatabase(kind);
      try {
        const h1 = await samlHarness(kind, { databaseUrl: db.url });
        await registerIdp(h1);
        const s = await h1.seed({ email: `saml-restart-${Date.now()}@example.com` });
        const encoded = b64(responseWithSignedAssertion({ now: h1.clock.now(), email: s.email }));
        assertSeedTokenResponse(await samlLogin(h1, s, 'SAMLResponse', encoded), s.email);
        await h1.close({ drop: false });

        // A new server (new process memory, same database), still within the assertion's lifetime.
        const h2 = await samlHarness(kind, { databaseUrl: db.url, clock: h1.clock });
        try {
          await assertSamlRejected(h2, await samlLogin(h2, s, 'SAMLResponse', encoded), 'replayed');
          // The server itself is fine: a fresh assertion logs the user in.
          assertSeedTokenResponse(
            await samlLogin(h2, s, 'SAMLResponse', b64(responseWithSignedAssertion({ now: h2.clock.now(), email: s.email }))),
            s.email,
          );
        } finally {
          await h2.close({ drop: false });
        }
      } finally {
        await db.drop();
      }
    });
  });
}
