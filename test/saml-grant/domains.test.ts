/**
 * The email domains an IdP vouches for (issue #13 item 3, contract §10), through POST /oauth/token
 * on every store: a --jit IdP creates users only inside its domains; an assertion for an address
 * outside them is refused (invalid_grant, saml_rejected with reason email_domain_not_allowed)
 * whether or not that user exists; a domain that belongs to one IdP cannot be vouched for by
 * another; an IdP registered with --jit before domains existed no longer creates anyone; and a
 * just-in-time address must pass the same creation rules as `user create`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AdminError } from '../../src/common/admin-error.ts';
import { newId } from '../../src/crypto/secrets.ts';
import { parseCertificate } from '../../src/idps/idp-service.ts';
import { type Seeded, storeKinds } from '../support/harness.ts';
import { b64, responseWithSignedAssertion, testIdp } from '../support/test-idp.ts';
import { assertSamlRejected, assertSeedTokenResponse, eventsOf, registerIdp, type SamlHarness, samlHarness, samlLogin } from './support.ts';

const entity = (name: string) => `https://${name}-${Date.now().toString(36)}.idp.test.example/saml`;
const unique = (name: string, domain: string) => `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}@${domain}`;

for (const kind of storeKinds()) {
  describe(`SAML bearer grant: IdP email domains [${kind}]`, () => {
    let h: SamlHarness;
    let client: Pick<Seeded, 'clientId' | 'clientSecret'>;
    const acme = { orgId: '', entityId: '' };
    const globex = { orgId: '', entityId: '' };
    const legacy = { orgId: '', entityId: '' };

    before(async () => {
      h = await samlHarness(kind);
      const c = await h.services.clients.createClient({ name: 'sso app', redirectUrls: ['https://app.example/callback'] });
      client = { clientId: c.client_id, clientSecret: c.client_secret };
      acme.orgId = (await h.services.accounts.createOrg({ name: 'Acme' })).id;
      acme.entityId = (
        await registerIdp(h, { entityId: entity('acme'), orgId: acme.orgId, jit: true, domains: ['acme.example', 'acme-corp.example'] })
      ).entityId;
      globex.orgId = (await h.services.accounts.createOrg({ name: 'Globex' })).id;
      globex.entityId = (
        await registerIdp(h, { entityId: entity('globex'), orgId: globex.orgId, jit: true, domains: ['globex.example'] })
      ).entityId;
      // An IdP registered with --jit before domains existed: the row as the old `idp create` wrote
      // it (the service refuses --jit without --domains now).
      legacy.orgId = (await h.services.accounts.createOrg({ name: 'Legacy' })).id;
      legacy.entityId = entity('legacy');
      const idpId = newId('idp_');
      await h.store.idps.create({ id: idpId, orgId: legacy.orgId, entityId: legacy.entityId, jit: true, createdAt: h.clock.now() });
      const cert = parseCertificate(testIdp().certPem, h.clock.now());
      await h.store.idps.createCertificate({ id: newId('crt_'), idpId, ...cert, createdAt: h.clock.now() });
    });
    after(() => h.close());

    const login = (issuer: string, email: string) =>
      samlLogin(h, client, 'SAMLResponse', b64(responseWithSignedAssertion({ now: h.clock.now(), issuer, email })));
    const userCount = async () => (await h.store.users.list()).length;

    test("JIT inside the IdP's domains creates the user in its organization", async () => {
      for (const domain of ['acme.example', 'acme-corp.example']) {
        const email = unique('jit-ada', domain);
        const res = await login(acme.entityId, email);
        assertSeedTokenResponse(res, email);
        const user = await h.store.users.findByEmail(email);
        assert.equal(user?.orgId, acme.orgId);
        assert.equal(user?.passwordHash, null);
        const provisioned = (await eventsOf(h, res)).filter((e) => e.type === 'user_provisioned');
        assert.equal(provisioned.length, 1);
        assert.equal(provisioned[0]!.reason, `jit:${acme.entityId}`);
      }
    });

    test('the domain is compared case-insensitively', async () => {
      const email = unique('Eve', 'ACME.Example');
      assertSeedTokenResponse(await login(acme.entityId, email), email);
      assert.equal((await h.store.users.findByEmail(email))?.orgId, acme.orgId);
    });

    test("an address outside the IdP's domains is refused and nobody is created: email_domain_not_allowed", async () => {
      const before = await userCount();
      // A domain nobody registered, and a domain another tenant's IdP holds.
      for (const email of [unique('squat', 'evil.example'), unique('ceo', 'globex.example'), unique('sub', 'eu.acme.example')]) {
        const event = await assertSamlRejected(h, await login(acme.entityId, email), 'email_domain_not_allowed');
        assert.equal(event.email, email, 'the event names the address, for the operator');
        assert.equal(await h.store.users.findByEmail(email), undefined);
      }
      assert.equal(await userCount(), before);
    });

    test("an existing user outside the IdP's domains is refused too, even one of the IdP's own organization", async () => {
      // A user the operator created in Acme with an address Acme's IdP does not vouch for: only the
      // domains say what the IdP may assert, so its assertion for that address is refused.
      const contractor = unique('contractor', 'freelance.example');
      await h.services.accounts.createUser({ email: contractor, orgId: acme.orgId, password: 'correct horse battery' });
      await assertSamlRejected(h, await login(acme.entityId, contractor), 'email_domain_not_allowed');
      // A Globex user is refused for the domain before the organization is even looked at.
      const bob = unique('bob', 'globex.example');
      await h.services.accounts.createUser({ email: bob, orgId: globex.orgId, password: 'correct horse battery' });
      await assertSamlRejected(h, await login(acme.entityId, bob), 'email_domain_not_allowed');
      // Globex's own IdP logs Bob in.
      assertSeedTokenResponse(await login(globex.entityId, bob), bob);
    });

    test('a domain that belongs to one IdP cannot be vouched for by an IdP without domains', async () => {
      // Even for a user of the legacy IdP's own organization: globex.example is Globex's IdP's alone.
      const lee = unique('lee', 'globex.example');
      await h.services.accounts.createUser({ email: lee, orgId: legacy.orgId, password: 'correct horse battery' });
      await assertSamlRejected(h, await login(legacy.entityId, lee), 'email_domain_not_allowed');
    });

    test('an IdP registered with --jit before domains existed: existing users still sign in, nobody is created (jit_without_domains)', async () => {
      const existing = unique('legacy-user', 'legacy.example');
      await h.services.accounts.createUser({ email: existing, orgId: legacy.orgId, password: 'correct horse battery' });
      assertSeedTokenResponse(await login(legacy.entityId, existing), existing);

      const before = await userCount();
      const stranger = unique('anyone', 'bank.example');
      const event = await assertSamlRejected(h, await login(legacy.entityId, stranger), 'jit_without_domains');
      assert.equal(event.email, stranger);
      assert.equal(await h.store.users.findByEmail(stranger), undefined);
      assert.equal(await userCount(), before);

      // `idp add-domain` gives it domains: JIT works again, inside them only.
      await h.services.idps.addDomains(legacy.entityId, ['legacy.example']);
      const newcomer = unique('newcomer', 'legacy.example');
      assertSeedTokenResponse(await login(legacy.entityId, newcomer), newcomer);
      await assertSamlRejected(h, await login(legacy.entityId, unique('anyone', 'bank.example')), 'email_domain_not_allowed');
    });

    test('JIT applies the creation rules: a Cyrillic or fullwidth letter in the address creates nobody (invalid_email)', async () => {
      const before = await userCount();
      const tag = `${Date.now()}`;
      // U+0430 CYRILLIC SMALL LETTER A; U+FF41 FULLWIDTH LATIN SMALL LETTER A.
      for (const email of [`\u0430da-${tag}@acme.example`, `\uff41da-${tag}@acme.example`]) {
        const event = await assertSamlRejected(h, await login(acme.entityId, email), 'invalid_email');
        assert.equal(event.email, email);
      }
      assert.equal(await userCount(), before);
    });

    test('two IdPs registering the same domain at once: exactly one gets it, the other is told which domain', async () => {
      const domain = `contested-${Date.now().toString(36)}.example`;
      const results = await Promise.allSettled(
        [0, 1, 2, 3].map((i) =>
          h.services.idps.create({ entityId: entity(`contender-${i}`), certPem: testIdp().certPem, domains: [domain], jit: true }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, JSON.stringify(results));
      for (const r of results) {
        if (r.status === 'rejected') {
          assert.ok(r.reason instanceof AdminError, String(r.reason));
          assert.match(r.reason.message, new RegExp(`email domain ${domain.replace(/\./g, '\\.')} belongs to the identity provider`));
        }
      }
      const owner = await h.store.idps.findByDomain(domain);
      assert.equal(owner?.id, (won[0] as PromiseFulfilledResult<{ id: string }>).value.id);
    });

    test('a compatibility spelling of an existing address is that address: the same user, never a second one', async () => {
      const email = unique('ada', 'acme.example');
      const created = await h.services.accounts.createUser({ email, orgId: acme.orgId, password: 'correct horse battery' });
      const before = await userCount();
      // U+FF41 for the first "a": NFKC turns it into "a", so the key is the existing user's.
      const res = await login(acme.entityId, `\uff41${email.slice(1)}`);
      assertSeedTokenResponse(res, email);
      assert.ok((await eventsOf(h, res)).some((e) => e.type === 'session_started' && e.userId === created.id));
      assert.equal(await userCount(), before);
    });
  });
}
