/**
 * POST /oauth/token with a SAML 2.0 bearer assertion (issue #4 items 2 and 5): every accepted form,
 * end to end, on every store. The seed's grant type with SAMLResponse (a signed Response, an
 * unsigned Response around a signed Assertion, both signed) or SAMLAssertion (a bare signed
 * Assertion), and RFC 7522's grant type with `assertion` in base64url or base64. Each answers 200
 * with exactly the seed's fields (no refresh token), and the token introspects active as the
 * asserted user.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basicAuth } from '../core/support.ts';
import { introspect, type Seeded, storeKinds } from '../support/harness.ts';
import { b64, b64url, responseWithSignedAssertion, signedAssertion, signedResponse, testIdp } from '../support/test-idp.ts';
import {
  assertDocumentNotEchoed,
  assertSeedTokenResponse,
  eventsOf,
  RFC7522_SAML_GRANT,
  registerIdp,
  type SamlHarness,
  type SamlParam,
  samlHarness,
  samlLogin,
  signatureValues,
} from './support.ts';

for (const kind of storeKinds()) {
  describe(`SAML bearer grant: accepted forms [${kind}]`, () => {
    let h: SamlHarness;
    let s: Seeded;
    before(async () => {
      h = await samlHarness(kind);
      await registerIdp(h);
      s = await h.seed({ email: `saml-forms-${Date.now()}@example.com` });
    });
    after(() => h.close());

    const now = () => h.clock.now();

    /** Logs in with the document, checks the seed response and the token's owner. */
    async function acceptedEndToEnd(param: SamlParam, encoded: string): Promise<void> {
      const res = await samlLogin(h, s, param, encoded);
      const body = assertSeedTokenResponse(res, s.email);
      const info = (await introspect(h, s, body.access_token)).json() as Record<string, unknown>;
      assert.equal(info.active, true);
      assert.equal(info.sub, s.userId);
      assert.equal(info.email, s.email);
      assert.equal(info.client_id, s.clientId);
      const events = await eventsOf(h, res);
      const started = events.find((e) => e.type === 'session_started');
      assert.equal(started?.reason, 'saml2-bearer', 'the session is recorded as a SAML login');
      assert.equal(started?.userId, s.userId);
      assert.ok(!events.some((e) => e.type === 'saml_rejected'));
      // Accepted or not, the document is a bearer credential: it is not logged or stored anywhere.
      const xml = Buffer.from(encoded.replace(/\s+/g, ''), /[-_]/.test(encoded) ? 'base64url' : 'base64').toString('utf8');
      await assertDocumentNotEchoed(h, res, encoded, [...(xml.match(/_[0-9a-f]{32}/g) ?? []), ...signatureValues(xml)]);
    }

    test('seed grant, SAMLResponse: a signed Response', async () => {
      const xml = signedResponse({ now: now(), email: s.email });
      const responseId = /<samlp:Response [^>]*ID="([^"]+)"/.exec(xml)![1];
      assert.deepEqual(
        [...xml.matchAll(/<ds:Reference URI="#([^"]+)"/g)].map((m) => m[1]),
        [responseId],
        'only the Response is signed',
      );
      await acceptedEndToEnd('SAMLResponse', b64(xml));
    });

    test('seed grant, SAMLResponse: an unsigned Response around a signed Assertion', async () => {
      const xml = responseWithSignedAssertion({ now: now(), email: s.email });
      const assertionId = /<saml:Assertion [^>]*ID="([^"]+)"/.exec(xml)![1];
      assert.deepEqual(
        [...xml.matchAll(/<ds:Reference URI="#([^"]+)"/g)].map((m) => m[1]),
        [assertionId],
        'only the Assertion is signed',
      );
      await acceptedEndToEnd('SAMLResponse', b64(xml));
    });

    test('seed grant, SAMLResponse: a signed Response with a signed Assertion', async () => {
      const xml = signedResponse({ now: now(), email: s.email, signAssertionToo: true });
      assert.equal(xml.match(/<ds:Signature /g)?.length, 2, 'both elements are signed');
      await acceptedEndToEnd('SAMLResponse', b64(xml));
    });

    test('seed grant, SAMLAssertion: a bare signed Assertion', async () => {
      await acceptedEndToEnd('SAMLAssertion', b64(signedAssertion({ now: now(), email: s.email })));
    });

    test('seed grant, SAMLResponse: base64 wrapped at 76 columns, as IdPs post it', async () => {
      const wrapped = b64(responseWithSignedAssertion({ now: now(), email: s.email })).replace(/.{76}/g, '$&\r\n');
      await acceptedEndToEnd('SAMLResponse', wrapped);
    });

    test('RFC 7522 grant, assertion: base64url without padding', async () => {
      // A signed document is long enough that its base64 has '+' or '/', so the two encodings differ.
      let xml = signedAssertion({ now: now(), email: s.email });
      while (!/[+/]/.test(b64(xml))) xml = signedAssertion({ now: now(), email: s.email });
      const encoded = b64url(xml);
      assert.match(encoded, /[-_]/);
      assert.doesNotMatch(encoded, /[+/=]/);
      await acceptedEndToEnd('assertion', encoded);
    });

    test('RFC 7522 grant, assertion: standard base64 too', async () => {
      let xml = signedAssertion({ now: now(), email: s.email });
      while (!/[+/]/.test(b64(xml))) xml = signedAssertion({ now: now(), email: s.email });
      await acceptedEndToEnd('assertion', b64(xml));
    });

    test('RFC 7522 grant, assertion: a Response is accepted as well (the parameter takes either)', async () => {
      await acceptedEndToEnd('assertion', b64url(responseWithSignedAssertion({ now: now(), email: s.email })));
    });

    test('the token endpoint URL is accepted as the Audience too', async () => {
      await acceptedEndToEnd(
        'SAMLResponse',
        b64(responseWithSignedAssertion({ now: now(), email: s.email, audience: `${h.issuer}/oauth/token` })),
      );
    });

    test('the identity may come from an email attribute when the NameID is not an email', async () => {
      const xml = responseWithSignedAssertion({
        now: now(),
        email: 'opaque-subject-4711',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        attributesEmail: s.email,
      });
      await acceptedEndToEnd('SAMLResponse', b64(xml));
    });

    test('the client may authenticate with HTTP Basic instead of parameters', async () => {
      const res = await h.post(
        '/oauth/token',
        { grant_type: RFC7522_SAML_GRANT, assertion: b64url(signedAssertion({ now: now(), email: s.email })) },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );
      assertSeedTokenResponse(res, s.email);
    });

    test('a client created with --token-type Bearer gets token_type Bearer', async () => {
      const other = await h.seed({ client: { tokenType: 'Bearer' } });
      const res = await samlLogin(h, other, 'SAMLResponse', b64(responseWithSignedAssertion({ now: now(), email: other.email })));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().token_type, 'Bearer');
      assert.equal(res.json().email, other.email);
    });

    test('the metadata document lists both SAML grant type names', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
      const types = (res.json() as { grant_types_supported: string[] }).grant_types_supported;
      assert.ok(types.includes('urn:ietf:params:oauth:client-assertion-type:saml2-bearer'));
      assert.ok(types.includes('urn:ietf:params:oauth:grant-type:saml2-bearer'));
    });

    test('a second registered IdP, with its own entity id and key, is accepted too', async () => {
      const second = testIdp('secondary');
      await registerIdp(h, { idp: second });
      await acceptedEndToEnd('SAMLResponse', b64(responseWithSignedAssertion({ now: now(), email: s.email, idp: second })));
    });
  });
}
