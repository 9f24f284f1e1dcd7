/**
 * Policies the grant adds on top of the verifier: an assertion valid for longer than
 * SAML_MAX_ASSERTION_LIFETIME is refused (RFC 7522 §3 "unreasonably far in the future"), and
 * just-in-time provisioning leaves a user_provisioned security event.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AdminError } from '../../src/common/admin-error.ts';
import { IdpService } from '../../src/idps/idp-service.ts';
import { type Seeded, storeKinds } from '../support/harness.ts';
import { b64, responseWithSignedAssertion } from '../support/test-idp.ts';
import { assertSamlRejected, assertSeedTokenResponse, registerIdp, type SamlHarness, samlHarness, samlLogin } from './support.ts';

for (const kind of storeKinds()) {
  describe(`SAML bearer grant: lifetime and provisioning policies [${kind}]`, () => {
    let h: SamlHarness;
    let client: Pick<Seeded, 'clientId' | 'clientSecret'>;
    let entityId: string;
    before(async () => {
      h = await samlHarness(kind);
      const c = await h.services.clients.createClient({ name: 'sso', redirectUrls: ['https://app.example/callback'] });
      client = { clientId: c.client_id, clientSecret: c.client_secret };
      const org = (await h.services.accounts.createOrg({ name: 'Policy org' })).id;
      entityId = (
        await registerIdp(h, {
          entityId: `https://policy-${Date.now().toString(36)}.idp.test/saml`,
          orgId: org,
          jit: true,
          domains: ['example.com'],
        })
      ).entityId;
    });
    after(() => h.close());

    test('an assertion valid for more than an hour is refused (lifetime_too_long); one for five minutes works', async () => {
      const now = h.clock.now();
      const long = b64(responseWithSignedAssertion({ now, issuer: entityId, email: 'long@example.com', notOnOrAfter: now + 2 * 3600_000 }));
      await assertSamlRejected(h, await samlLogin(h, client, 'SAMLResponse', long), 'lifetime_too_long');
      const short = b64(responseWithSignedAssertion({ now, issuer: entityId, email: 'short@example.com', notOnOrAfter: now + 300_000 }));
      assertSeedTokenResponse(await samlLogin(h, client, 'SAMLResponse', short), 'short@example.com');
    });

    test('a user created just in time is recorded as user_provisioned, naming the IdP', async () => {
      const email = `jit-${Date.now()}@example.com`;
      const encoded = b64(responseWithSignedAssertion({ now: h.clock.now(), issuer: entityId, email }));
      assertSeedTokenResponse(await samlLogin(h, client, 'SAMLResponse', encoded), email);
      const user = await h.store.users.findByEmail(email);
      const events = (await h.store.events.list({ userId: user!.id })).filter((e) => e.type === 'user_provisioned');
      assert.equal(events.length, 1);
      assert.equal(events[0]!.reason, `jit:${entityId}`);
      assert.equal(events[0]!.email, email);
    });

    test('an IdP certificate with an RSA key under 2048 bits is refused at registration', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sei-auth-weak-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:1024',
          '-nodes',
          '-days',
          '30',
          '-subj',
          '/CN=weak',
          '-keyout',
          join(dir, 'k.pem'),
          '-out',
          join(dir, 'c.pem'),
        ],
        { stdio: 'ignore' },
      );
      const idps = new IdpService({ store: h.store, clock: h.clock });
      await assert.rejects(
        idps.create({ entityId: 'https://weak.idp.test/saml', certPem: readFileSync(join(dir, 'c.pem'), 'utf8') }),
        (e: unknown) => e instanceof AdminError && /2048/.test(e.message),
      );
    });
  });
}
