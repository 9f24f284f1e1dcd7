/**
 * Whose login a verified SAML assertion is (issue #4 items 4 and 5), through POST /oauth/token on
 * every store: the user must belong to the IdP's organization; an unknown user is refused unless
 * the IdP has --jit (and the address is in its --domains: domains.test.ts), which creates a
 * password-less user in that organization; a disabled user is refused. Sessions, the session
 * limit and endOtherSessions apply exactly as for the password login — and a login refused for
 * the session limit does not use the assertion up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOAuthError } from '../core/support.ts';
import { introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { b64, b64url, responseWithSignedAssertion, signedAssertion, signedResponse, testIdp } from '../support/test-idp.ts';
import { assertSamlRejected, assertSeedTokenResponse, eventsOf, registerIdp, type SamlHarness, samlHarness, samlLogin } from './support.ts';

/** An entity id of its own per IdP, all signing with the primary test key. */
const entity = (name: string) => `https://${name}-${Date.now().toString(36)}.idp.test.example/saml`;
/** The email domain of the --jit IdP (contract §10: a --jit IdP creates users only in its domains). */
const JIT_DOMAIN = 'acme-jit.example';

for (const kind of storeKinds()) {
  describe(`SAML bearer grant: user mapping [${kind}]`, () => {
    let h: SamlHarness;
    let client: Pick<Seeded, 'clientId' | 'clientSecret'>;
    let acme: { orgId: string; entityId: string };
    let acmeJit: { orgId: string; entityId: string };
    let globex: { orgId: string };

    before(async () => {
      h = await samlHarness(kind);
      const c = await h.services.clients.createClient({ name: 'sso app', redirectUrls: ['https://app.example/callback'] });
      client = { clientId: c.client_id, clientSecret: c.client_secret };
      const acmeOrg = (await h.services.accounts.createOrg({ name: 'Acme' })).id;
      const jitOrg = (await h.services.accounts.createOrg({ name: 'Acme JIT' })).id;
      globex = { orgId: (await h.services.accounts.createOrg({ name: 'Globex' })).id };
      acme = { orgId: acmeOrg, entityId: (await registerIdp(h, { entityId: entity('acme'), orgId: acmeOrg })).entityId };
      acmeJit = {
        orgId: jitOrg,
        entityId: (await registerIdp(h, { entityId: entity('acme-jit'), orgId: jitOrg, jit: true, domains: [JIT_DOMAIN] })).entityId,
      };
    });
    after(() => h.close());

    const now = () => h.clock.now();
    const assertionFrom = (issuer: string, email: string) => b64(responseWithSignedAssertion({ now: now(), issuer, email }));
    const uniqueEmail = (name: string, domain = 'example.com') =>
      `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}@${domain}`;

    test("an existing user of the IdP's organization is logged in as that user", async () => {
      const email = uniqueEmail('acme-ada');
      const user = await h.services.accounts.createUser({ email, orgId: acme.orgId, password: 'correct horse battery' });
      const body = assertSeedTokenResponse(await samlLogin(h, client, 'SAMLResponse', assertionFrom(acme.entityId, email)), email);
      const info = (await introspect(h, { ...client, email, password: '', userId: user.id }, body.access_token)).json();
      assert.equal(info.active, true);
      assert.equal(info.sub, user.id);
    });

    test('the NameID is matched case-insensitively; the response carries the stored email', async () => {
      const email = uniqueEmail('acme-case');
      await h.services.accounts.createUser({ email, orgId: acme.orgId, password: 'correct horse battery' });
      assertSeedTokenResponse(await samlLogin(h, client, 'SAMLResponse', assertionFrom(acme.entityId, email.toUpperCase())), email);
    });

    test('a user of ANOTHER organization is refused (user_not_in_org), even by a --jit IdP', async () => {
      const email = uniqueEmail('globex-bob');
      const user = await h.services.accounts.createUser({ email, orgId: globex.orgId, password: 'correct horse battery' });
      const event = await assertSamlRejected(
        h,
        await samlLogin(h, client, 'SAMLResponse', assertionFrom(acme.entityId, email)),
        'user_not_in_org',
      );
      assert.equal(event.email, email);
      // The same for a globex user inside the --jit IdP's domain: the domain lets the IdP speak for
      // the address, the organization still decides whose user it is.
      const inJitDomain = uniqueEmail('globex-dan', JIT_DOMAIN);
      await h.services.accounts.createUser({ email: inJitDomain, orgId: globex.orgId, password: 'correct horse battery' });
      await assertSamlRejected(
        h,
        await samlLogin(h, client, 'SAMLResponse', assertionFrom(acmeJit.entityId, inJitDomain)),
        'user_not_in_org',
      );
      assert.equal((await h.store.users.findByEmail(inJitDomain))?.orgId, globex.orgId, 'the user was not moved');
      assert.equal((await h.store.users.find(user.id))?.email, email);
    });

    test('a user of the default organization is refused by an IdP of another organization', async () => {
      const s = await h.seed({ email: uniqueEmail('default-org') });
      await assertSamlRejected(h, await samlLogin(h, client, 'SAMLResponse', assertionFrom(acme.entityId, s.email)), 'user_not_in_org');
    });

    test('an unknown user without --jit is refused (unknown_user) and nothing is created', async () => {
      const email = uniqueEmail('acme-nobody');
      const event = await assertSamlRejected(
        h,
        await samlLogin(h, client, 'SAMLResponse', assertionFrom(acme.entityId, email)),
        'unknown_user',
      );
      assert.equal(event.email, email);
      assert.equal(await h.store.users.findByEmail(email), undefined);
    });

    test("with --jit an unknown user is created in the IdP's organization, with no password; the second login reuses it", async () => {
      const email = uniqueEmail('jit-carol', JIT_DOMAIN);
      const first = await samlLogin(h, client, 'SAMLResponse', assertionFrom(acmeJit.entityId, email));
      const body = assertSeedTokenResponse(first, email);
      const created = await h.store.users.findByEmail(email);
      assert.ok(created, 'the user exists now');
      assert.equal(created.orgId, acmeJit.orgId);
      assert.equal(created.passwordHash, null);
      assert.equal(created.disabled, false);
      assert.equal((await introspect(h, { ...client, email, password: '', userId: created.id }, body.access_token)).json().sub, created.id);

      // No password: a password login for it fails, whatever password is tried.
      for (const password of ['', 'correct horse battery', 'null']) {
        const res = await passwordLogin(h, { ...client, email, password, userId: created.id });
        assert.equal(res.statusCode, 400, res.body);
        assert.ok(['invalid_grant', 'invalid_request'].includes(res.json().error), res.body);
        assert.equal(res.json().access_token, undefined);
      }

      const second = await samlLogin(h, client, 'assertion', b64url(signedAssertion({ now: now(), issuer: acmeJit.entityId, email })));
      const again = assertSeedTokenResponse(second, email);
      const info = (await introspect(h, { ...client, email, password: '', userId: created.id }, again.access_token)).json();
      assert.equal(info.sub, created.id, 'the same user, not a second one');
      assert.equal((await h.store.users.list(acmeJit.orgId)).filter((u) => u.email === email).length, 1);
    });

    test('two simultaneous first logins of a --jit user create it once', async () => {
      const email = uniqueEmail('jit-race', JIT_DOMAIN);
      const results = await Promise.all(
        [0, 1, 2, 3].map(() => samlLogin(h, client, 'SAMLResponse', assertionFrom(acmeJit.entityId, email))),
      );
      assert.deepEqual(
        results.map((r) => r.statusCode),
        [200, 200, 200, 200],
        results.map((r) => r.body).join('\n'),
      );
      const ids = new Set<string>();
      for (const r of results)
        ids.add((await introspect(h, { ...client, email, password: '', userId: '' }, r.json().access_token)).json().sub);
      assert.equal(ids.size, 1);
      assert.equal((await h.store.users.list(acmeJit.orgId)).filter((u) => u.email === email).length, 1);
    });

    test('a disabled user is refused (user_disabled)', async () => {
      const email = uniqueEmail('acme-disabled');
      await h.services.accounts.createUser({ email, orgId: acme.orgId, password: 'correct horse battery' });
      await h.services.accounts.setUserDisabled(email, true);
      const event = await assertSamlRejected(
        h,
        await samlLogin(h, client, 'SAMLResponse', assertionFrom(acme.entityId, email)),
        'user_disabled',
      );
      assert.equal(event.email, email);
      // Enabled again, a fresh assertion works: the refusal was about the account, not the IdP.
      await h.services.accounts.setUserDisabled(email, false);
      assertSeedTokenResponse(await samlLogin(h, client, 'SAMLResponse', assertionFrom(acme.entityId, email)), email);
    });

    test('a --jit IdP does not create a user for an assertion it did not sign', async () => {
      const email = uniqueEmail('jit-forged', JIT_DOMAIN);
      const forged = b64(responseWithSignedAssertion({ now: now(), issuer: acmeJit.entityId, email, idp: testIdp('attacker') }));
      await assertSamlRejected(h, await samlLogin(h, client, 'SAMLResponse', forged), 'signature_invalid');
      assert.equal(await h.store.users.findByEmail(email), undefined);
    });
  });

  describe(`SAML bearer grant: sessions as for the password login [${kind}]`, () => {
    let h: SamlHarness;
    before(async () => {
      h = await samlHarness(kind);
      await registerIdp(h);
    });
    after(() => h.close());

    const now = () => h.clock.now();
    const fresh = (s: Seeded) => b64(responseWithSignedAssertion({ now: now(), email: s.email }));

    test('limit 1: a second SAML login is concurrent_session_limit and does not use the assertion up; with endOtherSessions=true the same assertion works', async () => {
      const s = await h.seed({ maxSessions: 1 });
      const first = assertSeedTokenResponse(await samlLogin(h, s, 'SAMLResponse', fresh(s)), s.email);

      const second = fresh(s);
      const refused = await samlLogin(h, s, 'SAMLResponse', second);
      assertOAuthError(refused, 400, 'concurrent_session_limit');
      const events = await eventsOf(h, refused);
      assert.ok(events.some((e) => e.type === 'login_failed' && e.reason === 'session_limit' && e.userId === s.userId));
      assert.ok(!events.some((e) => e.type === 'saml_rejected' || e.type === 'session_started'));
      assert.equal(await h.store.sessions.countActive(s.userId, now()), 1, 'nothing started');
      assert.equal((await introspect(h, s, first.access_token)).json().active, true);

      const retried = await samlLogin(h, s, 'SAMLResponse', second, { endOtherSessions: 'true' });
      const body = assertSeedTokenResponse(retried, s.email);
      assert.equal((await introspect(h, s, body.access_token)).json().active, true);
      assert.deepEqual((await introspect(h, s, first.access_token)).json(), { active: false }, 'the other session ended');
      assert.equal(await h.store.sessions.countActive(s.userId, now()), 1);
      const ended = (await eventsOf(h, retried)).filter((e) => e.type === 'session_ended');
      assert.equal(ended.length, 1);
      assert.equal(ended[0]!.reason, 'end_other_sessions');

      // Now it is used up.
      await assertSamlRejected(h, await samlLogin(h, s, 'SAMLResponse', second, { endOtherSessions: 'true' }), 'replayed');
    });

    test('the limit counts password and SAML sessions together, both ways', async () => {
      const s = await h.seed({ maxSessions: 1 });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assertOAuthError(await samlLogin(h, s, 'SAMLResponse', fresh(s)), 400, 'concurrent_session_limit');
      assertSeedTokenResponse(await samlLogin(h, s, 'SAMLResponse', fresh(s), { endOtherSessions: 'true' }), s.email);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
    });

    test("the organization's limit applies when the user has none", async () => {
      const org = await h.services.accounts.createOrg({ name: 'Two seats', maxSessions: 2 });
      const idpEntity = entity('two-seats');
      await registerIdp(h, { entityId: idpEntity, orgId: org.id });
      const s = await h.seed({ orgId: org.id });
      const login = () =>
        samlLogin(h, s, 'SAMLResponse', b64(responseWithSignedAssertion({ now: now(), issuer: idpEntity, email: s.email })));
      assert.equal((await login()).statusCode, 200);
      assert.equal((await login()).statusCode, 200);
      assertOAuthError(await login(), 400, 'concurrent_session_limit');
    });

    test('endOtherSessions=true ends every other session even without a limit', async () => {
      const s = await h.seed();
      const a = assertSeedTokenResponse(await samlLogin(h, s, 'SAMLResponse', fresh(s)), s.email);
      const b = assertSeedTokenResponse(
        await samlLogin(h, s, 'SAMLAssertion', b64(signedAssertion({ now: now(), email: s.email }))),
        s.email,
      );
      const c = assertSeedTokenResponse(
        await samlLogin(h, s, 'SAMLResponse', b64(signedResponse({ now: now(), email: s.email })), { endOtherSessions: 'true' }),
        s.email,
      );
      assert.equal((await introspect(h, s, a.access_token)).json().active, false);
      assert.equal((await introspect(h, s, b.access_token)).json().active, false);
      assert.equal((await introspect(h, s, c.access_token)).json().active, true);
    });

    test('endOtherSessions with another value is invalid_request and does not use the assertion up', async () => {
      const s = await h.seed();
      const encoded = fresh(s);
      assertOAuthError(await samlLogin(h, s, 'SAMLResponse', encoded, { endOtherSessions: 'yes' }), 400, 'invalid_request');
      assertSeedTokenResponse(await samlLogin(h, s, 'SAMLResponse', encoded), s.email);
    });
  });
}
