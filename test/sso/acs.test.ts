/**
 * SP-initiated browser SSO over HTTP (fastify inject): the email step, the AuthnRequest, the ACS
 * with the same verifier as the bearer grant in its ACS mode, and every refusal the issue lists —
 * each one a plain page whose support code names the security event that holds the reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exchangeCode } from '../code-flow/flow.ts';
import { xsw1, xsw2, xsw3, xsw4, xsw5, xsw6, xsw7, xsw8 } from '../saml/xsw.ts';
import { createHarness, type Harness, ManualClock, type Seeded, storeKinds } from '../support/harness.ts';
import { b64, type ResponseOptions, responseWithSignedAssertion, signedResponse, testIdp, unsignedResponse } from '../support/test-idp.ts';
import { postAcs, refusalReason, registerSsoIdp, SSO_URL, type StartedSignIn, startSignIn } from './support.ts';

const ISSUER = 'http://localhost:8080';
const ACS = `${ISSUER}/saml/acs`;

for (const kind of storeKinds()) {
  describe(`SAML browser SSO, ACS [${kind}]`, () => {
    let h: Harness;
    let clock: ManualClock;
    let s: Seeded;
    let email: string;

    before(async () => {
      clock = new ManualClock(Date.now());
      // A test posts faster than a person: the per-IP limit (which the ACS is under) would answer 429.
      h = await createHarness({ kind, clock, issuer: ISSUER, rateLimits: { perIp: 0, perClient: 0 } });
      email = `ada@acme-${kind}.test`;
      s = await h.seed({ email });
      await registerSsoIdp(h, { domains: [`acme-${kind}.test`] });
      await registerSsoIdp(h, { domains: [`other-${kind}.test`], idp: testIdp('secondary'), ssoUrl: 'https://idp2.test.example/sso' });
    });
    after(async () => h?.close());

    /** What a well-behaved IdP answers to this sign-in. */
    function answer(signIn: StartedSignIn, o: ResponseOptions = {}): ResponseOptions {
      return {
        now: clock.now(),
        email,
        audience: ISSUER,
        recipient: ACS,
        destination: ACS,
        inResponseTo: signIn.requestId,
        responseInResponseTo: signIn.requestId,
        ...o,
      };
    }

    test('the email step sends the browser to the IdP with a deflated AuthnRequest and an opaque RelayState', async () => {
      const signIn = await startSignIn(h, s, email);
      assert.equal(`${signIn.redirectUrl.origin}${signIn.redirectUrl.pathname}`, SSO_URL);
      const xml = signIn.requestXml;
      assert.match(xml, /^<samlp:AuthnRequest /);
      assert.match(xml, new RegExp(`Destination="${SSO_URL}"`));
      assert.match(xml, new RegExp(`AssertionConsumerServiceURL="${ACS}"`));
      assert.match(xml, /ProtocolBinding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST"/);
      assert.match(xml, /IssueInstant="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);
      assert.match(xml, new RegExp(`<saml:Issuer>${ISSUER}</saml:Issuer>`));
      assert.match(xml, /<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1\.1:nameid-format:emailAddress"/);
      // The RelayState is a random handle, not the authorize request (client, redirect URI, state).
      assert.match(signIn.relayState, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(!signIn.redirectUrl.href.includes(s.clientId));
      assert.match(
        signIn.res.headers['set-cookie']!.toString(),
        /sei_saml_browser=[^;]+; Max-Age=600; Path=\/saml; HttpOnly; SameSite=Lax/,
      );
      // Only a hash of the handle is stored.
      assert.equal(await h.store.samlRequests.find(signIn.relayState), undefined);
    });

    test('round trip: the IdP answers, the ACS redirects to the client with code and state, the code exchanges with PKCE', async () => {
      const signIn = await startSignIn(h, s, email);
      const res = await postAcs(
        h,
        { SAMLResponse: b64(responseWithSignedAssertion(answer(signIn))), RelayState: signIn.relayState },
        signIn.browserCookie,
      );
      assert.equal(res.statusCode, 303, res.body);
      const location = new URL(String(res.headers.location));
      assert.equal(`${location.origin}${location.pathname}`, 'https://app.example/callback');
      assert.equal(location.searchParams.get('state'), signIn.state);
      assert.equal(location.searchParams.get('iss'), ISSUER);
      const tokens = await exchangeCode(h, s, location.searchParams.get('code')!, { code_verifier: signIn.verifier });
      assert.equal(tokens.statusCode, 200, tokens.body);
      assert.equal(tokens.json().email, email);
    });

    test('a signed Response (unsigned assertion) naming the request in Response/@InResponseTo only is accepted', async () => {
      const signIn = await startSignIn(h, s, email);
      const xml = signedResponse(answer(signIn, { inResponseTo: undefined }));
      const res = await postAcs(h, { SAMLResponse: b64(xml), RelayState: signIn.relayState }, signIn.browserCookie);
      assert.equal(res.statusCode, 303, res.body);
    });

    test('a password typed beside an SSO email is never checked; a domain without IdP still needs its password', async () => {
      const other = await h.seed();
      const page = await startSignIn(h, s, email);
      assert.ok(page.relayState);
      const { openLoginPage, submitLogin, authorizeQuery } = await import('../code-flow/flow.ts');
      const login = await openLoginPage(
        h,
        authorizeQuery(other, { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }),
      );
      const res = await submitLogin(h, login, { email: other.email, password: '' });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, /Enter your email address and your password\./);
    });

    const refusals: Array<[string, string, (signIn: StartedSignIn) => string]> = [
      [
        'wrong InResponseTo',
        'in_response_to_mismatch',
        (si) => responseWithSignedAssertion(answer(si, { inResponseTo: '_other', responseInResponseTo: '_other' })),
      ],
      [
        'unsolicited (no InResponseTo)',
        'unsolicited',
        (si) => responseWithSignedAssertion(answer(si, { inResponseTo: undefined, responseInResponseTo: undefined })),
      ],
      [
        'InResponseTo only on an unsigned Response around a signed assertion',
        'in_response_to_mismatch',
        (si) => responseWithSignedAssertion(answer(si, { inResponseTo: undefined })),
      ],
      [
        'a response for another SP (audience)',
        'audience_mismatch',
        (si) => responseWithSignedAssertion(answer(si, { audience: 'https://other-sp.example' })),
      ],
      [
        'Recipient is the token endpoint',
        'recipient_mismatch',
        (si) => responseWithSignedAssertion(answer(si, { recipient: `${ISSUER}/oauth/token` })),
      ],
      [
        'Destination is another URL',
        'destination_mismatch',
        (si) => responseWithSignedAssertion(answer(si, { destination: 'https://other-sp.example/acs' })),
      ],
      ['no Destination', 'destination_missing', (si) => responseWithSignedAssertion(answer(si, { destination: null }))],
      ['an unsigned assertion', 'signature_missing', (si) => unsignedResponse(answer(si))],
      [
        'signed by an unregistered key',
        'signature_invalid',
        (si) => responseWithSignedAssertion(answer(si, { idp: { ...testIdp('attacker'), entityId: testIdp().entityId } })),
      ],
      [
        'signed by another registered IdP',
        'unknown_issuer',
        (si) => responseWithSignedAssertion(answer(si, { idp: testIdp('secondary') })),
      ],
      [
        'expired',
        'expired',
        (si) => responseWithSignedAssertion(answer(si, { now: clock.now() - 3_600_000, notOnOrAfter: clock.now() - 600_000 })),
      ],
      [
        'an email outside the IdP domains',
        'email_domain_not_allowed',
        (si) => responseWithSignedAssertion(answer(si, { email: 'mallory@evil.example' })),
      ],
    ];
    for (const [name, reason, build] of refusals) {
      test(`refused: ${name} → ${reason}`, async () => {
        const signIn = await startSignIn(h, s, email);
        const res = await postAcs(h, { SAMLResponse: b64(build(signIn)), RelayState: signIn.relayState }, signIn.browserCookie);
        assert.equal(await refusalReason(h, res), reason);
      });
    }

    const wrappings = { xsw1, xsw2, xsw3, xsw4, xsw5, xsw6, xsw7, xsw8 };
    for (const [name, wrap] of Object.entries(wrappings)) {
      test(`XSW on the ACS: ${name} is refused`, async () => {
        const signIn = await startSignIn(h, s, email);
        const base = ['xsw1', 'xsw2'].includes(name) ? signedResponse(answer(signIn)) : responseWithSignedAssertion(answer(signIn));
        const res = await postAcs(h, { SAMLResponse: b64(wrap(base)), RelayState: signIn.relayState }, signIn.browserCookie);
        assert.ok((await refusalReason(h, res)).length > 0);
      });
    }

    test('a response replayed with its RelayState is refused; with a new sign-in it answers the wrong request', async () => {
      const signIn = await startSignIn(h, s, email);
      const samlResponse = b64(responseWithSignedAssertion(answer(signIn)));
      assert.equal((await postAcs(h, { SAMLResponse: samlResponse, RelayState: signIn.relayState }, signIn.browserCookie)).statusCode, 303);
      assert.equal(
        await refusalReason(h, await postAcs(h, { SAMLResponse: samlResponse, RelayState: signIn.relayState }, signIn.browserCookie)),
        'relay_state_reused',
      );
      const next = await startSignIn(h, s, email, { browserCookie: signIn.browserCookie });
      assert.equal(
        await refusalReason(h, await postAcs(h, { SAMLResponse: samlResponse, RelayState: next.relayState }, next.browserCookie)),
        'in_response_to_mismatch',
      );
    });

    test('the same assertion id twice (an IdP that reuses it) is refused by the replay record', async () => {
      const first = await startSignIn(h, s, email);
      const id = `_fixed_${kind}_${Date.now()}`;
      const ok = await postAcs(
        h,
        { SAMLResponse: b64(responseWithSignedAssertion(answer(first, { id }))), RelayState: first.relayState },
        first.browserCookie,
      );
      assert.equal(ok.statusCode, 303);
      const second = await startSignIn(h, s, email);
      const res = await postAcs(
        h,
        { SAMLResponse: b64(responseWithSignedAssertion(answer(second, { id }))), RelayState: second.relayState },
        second.browserCookie,
      );
      assert.equal(await refusalReason(h, res), 'replayed');
    });

    test('RelayState tampered, missing, or the response without SAMLResponse', async () => {
      const signIn = await startSignIn(h, s, email);
      const samlResponse = b64(responseWithSignedAssertion(answer(signIn)));
      const tampered = (signIn.relayState[0] === 'A' ? 'B' : 'A') + signIn.relayState.slice(1);
      assert.equal(
        await refusalReason(h, await postAcs(h, { SAMLResponse: samlResponse, RelayState: tampered }, signIn.browserCookie)),
        'relay_state_unknown',
      );
      assert.equal(
        await refusalReason(h, await postAcs(h, { SAMLResponse: samlResponse, RelayState: `${signIn.relayState}x` }, signIn.browserCookie)),
        'relay_state_unknown',
      );
      assert.equal(await refusalReason(h, await postAcs(h, { SAMLResponse: samlResponse }, signIn.browserCookie)), 'missing_parameters');
      assert.equal(await refusalReason(h, await postAcs(h, { RelayState: signIn.relayState }, signIn.browserCookie)), 'missing_parameters');
      // None of these spent the sign-in: the real answer still goes through.
      assert.equal((await postAcs(h, { SAMLResponse: samlResponse, RelayState: signIn.relayState }, signIn.browserCookie)).statusCode, 303);
    });

    test('another browser (no cookie, or its own cookie) cannot finish the sign-in, and does not spend it', async () => {
      const signIn = await startSignIn(h, s, email);
      const samlResponse = b64(responseWithSignedAssertion(answer(signIn)));
      assert.equal(
        await refusalReason(h, await postAcs(h, { SAMLResponse: samlResponse, RelayState: signIn.relayState }, null)),
        'browser_mismatch',
      );
      const otherBrowser = await startSignIn(h, s, email);
      assert.notEqual(otherBrowser.browserCookie, signIn.browserCookie);
      assert.equal(
        await refusalReason(h, await postAcs(h, { SAMLResponse: samlResponse, RelayState: signIn.relayState }, otherBrowser.browserCookie)),
        'browser_mismatch',
      );
      assert.equal((await postAcs(h, { SAMLResponse: samlResponse, RelayState: signIn.relayState }, signIn.browserCookie)).statusCode, 303);
    });

    test('a sign-in older than 10 minutes is refused', async () => {
      const signIn = await startSignIn(h, s, email);
      clock.advance(10 * 60_000 + 1);
      try {
        const res = await postAcs(
          h,
          { SAMLResponse: b64(responseWithSignedAssertion(answer(signIn))), RelayState: signIn.relayState },
          signIn.browserCookie,
        );
        assert.equal(await refusalReason(h, res), 'request_expired');
      } finally {
        clock.advance(-(10 * 60_000 + 1));
      }
    });

    test('garbage in SAMLResponse is a 400 page, never a 5xx; the document never reaches a log line or an event', async () => {
      const signIn = await startSignIn(h, s, email);
      const marker = `secret-marker-${Date.now()}`;
      const res = await postAcs(
        h,
        { SAMLResponse: Buffer.from(`<not-xml ${marker}`).toString('base64'), RelayState: signIn.relayState },
        signIn.browserCookie,
      );
      assert.equal(await refusalReason(h, res), 'not_xml');
      const good = await startSignIn(h, s, email);
      const samlResponse = b64(responseWithSignedAssertion(answer(good, { groups: [marker] })));
      assert.equal((await postAcs(h, { SAMLResponse: samlResponse, RelayState: good.relayState }, good.browserCookie)).statusCode, 303);
      const logs = h.logs.join('\n');
      for (const secret of [marker, samlResponse.slice(0, 40), good.relayState, signIn.relayState, good.browserCookie.split('=')[1]!]) {
        assert.ok(!logs.includes(secret), 'nothing of the response, RelayState or cookie in the logs');
      }
      const events = JSON.stringify(await h.store.events.list({ limit: 100_000 }));
      assert.ok(!events.includes(marker) && !events.includes(good.relayState));
    });

    test('the session rules apply at the code exchange: a user at the limit needs endOtherSessions', async () => {
      const limited = `lim@acme-${kind}.test`;
      const u = await h.seed({ email: limited, maxSessions: 1 });
      const signInAs = async () => {
        const signIn = await startSignIn(h, u, limited);
        const res = await postAcs(
          h,
          { SAMLResponse: b64(responseWithSignedAssertion(answer(signIn, { email: limited }))), RelayState: signIn.relayState },
          signIn.browserCookie,
        );
        assert.equal(res.statusCode, 303, res.body);
        return { code: new URL(String(res.headers.location)).searchParams.get('code')!, verifier: signIn.verifier };
      };
      const first = await signInAs();
      assert.equal((await exchangeCode(h, u, first.code, { code_verifier: first.verifier })).statusCode, 200);
      const second = await signInAs();
      const refused = await exchangeCode(h, u, second.code, { code_verifier: second.verifier });
      assert.equal(refused.statusCode, 400);
      assert.equal(refused.json().error, 'concurrent_session_limit');
      const ended = await exchangeCode(h, u, second.code, { code_verifier: second.verifier, endOtherSessions: 'true' });
      assert.equal(ended.statusCode, 200, ended.body);
    });
  });
}
