/**
 * Issue #6 §3/§4: no secret, token, password, authorization code, PKCE verifier, client secret or
 * SAML document ever lands in a security event or a log line — across every flow, in successful
 * and failing requests, with secrets in the query string, the body and HTTP Basic.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { IdpService } from '../../src/idps/idp-service.ts';
import { authorizeQuery, exchangeCode, obtainCode, openLoginPage, pkcePair, refresh, submitLogin } from '../code-flow/flow.ts';
import { basicAuth } from '../core/support.ts';
import { createHarness, type Harness, storeKinds } from '../support/harness.ts';
import { b64, b64url, DEFAULT_AUDIENCE, responseWithSignedAssertion, signedAssertion, testIdp } from '../support/test-idp.ts';
import { allEvents } from './support.ts';

const SEED_SAML_GRANT = 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer';
const RFC7522_SAML_GRANT = 'urn:ietf:params:oauth:grant-type:saml2-bearer';

/** A secret and the encodings it could be written in. */
function spellings(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
    Buffer.from(secret).toString('base64'),
  ];
}

for (const kind of storeKinds()) {
  describe(`no secrets in events or logs [${kind}]`, () => {
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind, clock, issuer: DEFAULT_AUDIENCE });
    });
    after(async () => h?.close());

    test('no password, token, code, verifier, client secret, CSRF token or SAML document lands in any security event or log line', async () => {
      const secrets: string[] = [];
      const keep = (...values: string[]) => {
        for (const v of values) if (v) secrets.push(v);
        return values[0]!;
      };
      await new IdpService({ store: h.store, clock }).create({ entityId: testIdp().entityId, certPem: testIdp().certPem });
      const s = await h.seed({ email: 'alice@example.com', password: 'Sup3r-Secret-Passw0rd!', client: { refreshTokens: true } });
      const locked = await h.seed({ password: 'L0cked-Account-Passw0rd!' });
      keep(s.password, s.clientSecret, locked.password, locked.clientSecret);
      const auth = { client_id: s.clientId, client_secret: s.clientSecret };

      // Password logins: right, wrong, a password typed into the email field, secrets in the query string.
      const ok = await h.post('/oauth/token', { grant_type: 'client_credentials', ...auth, email: s.email, password: s.password });
      assert.equal(ok.statusCode, 200);
      keep(ok.json().access_token);
      keep('Wr0ng-Guess-Passw0rd!');
      await h.post('/oauth/token', { grant_type: 'client_credentials', ...auth, email: s.email, password: 'Wr0ng-Guess-Passw0rd!' });
      keep('Typed-1nto-The-Email-Field!');
      await h.post('/oauth/token', {
        grant_type: 'client_credentials',
        ...auth,
        email: 'Typed-1nto-The-Email-Field!',
        password: 'whatever',
      });
      const inQuery = await h.post('/oauth/token', '', {
        query: new URLSearchParams({ grant_type: 'password', ...auth, username: s.email, password: s.password }).toString(),
      });
      assert.equal(inQuery.statusCode, 200);
      keep(inQuery.json().access_token);
      keep('scs_Wr0ngClientSecretValue');
      await h.post('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: 'scs_Wr0ngClientSecretValue',
        email: s.email,
        password: s.password,
      });

      // A locked account, with its right password refused.
      for (let i = 0; i < 5; i++) {
        keep(`L0ck-Guess-${i}-Passw0rd`);
        await h.post('/oauth/token', {
          grant_type: 'client_credentials',
          client_id: locked.clientId,
          client_secret: locked.clientSecret,
          email: locked.email,
          password: `L0ck-Guess-${i}-Passw0rd`,
        });
      }
      const refused = await h.post('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: locked.clientId,
        client_secret: locked.clientSecret,
        email: locked.email,
        password: locked.password,
      });
      assert.equal(refused.statusCode, 429);

      // The code flow: login page (wrong, then right), PKCE, exchange, refresh, reuse, introspection, revocation.
      const { verifier, challenge } = pkcePair();
      keep(verifier);
      const page = await openLoginPage(h, authorizeQuery(s, { code_challenge: challenge, code_challenge_method: 'S256' }));
      keep(page.cookie.split('=')[1]!);
      keep((await h.store.serverSecrets.find('csrf_hmac_key'))!); // the key that MACs the CSRF tokens
      keep('Wr0ng-On-The-Login-Page!');
      assert.equal((await submitLogin(h, page, { email: s.email, password: 'Wr0ng-On-The-Login-Page!' })).statusCode, 400);
      const redirected = await submitLogin(h, page, { email: s.email, password: s.password });
      const code = keep(new URL(String(redirected.headers.location)).searchParams.get('code')!);
      const exchanged = await exchangeCode(h, s, code, { code_verifier: verifier });
      assert.equal(exchanged.statusCode, 200, exchanged.body);
      const first = exchanged.json();
      keep(first.access_token, first.refresh_token);
      await exchangeCode(h, s, code, { code_verifier: verifier }); // code reuse
      const refreshed = await refresh(h, s, first.refresh_token);
      keep(refreshed.json().access_token, refreshed.json().refresh_token);
      await refresh(h, s, first.refresh_token); // refresh-token reuse
      const again = pkcePair();
      keep(again.verifier);
      const secondCode = await obtainCode(h, s, { code_challenge: again.challenge, code_challenge_method: 'S256' });
      const second = await exchangeCode(h, s, secondCode, { code_verifier: again.verifier });
      keep(second.json().access_token, second.json().refresh_token);
      await h.post(
        '/oauth/introspect',
        { token: second.json().access_token },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );
      await h.post(
        '/oauth/revoke',
        { token: second.json().refresh_token },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );

      // SAML: accepted, rejected, replayed, both grant names.
      const goodXml = responseWithSignedAssertion({ now: clock.now() });
      const badXml = responseWithSignedAssertion({ now: clock.now(), audience: 'https://elsewhere.example' });
      const bareXml = signedAssertion({ now: clock.now() });
      for (const xml of [goodXml, badXml, bareXml]) {
        keep(b64(xml), b64url(xml));
        // The signature value and the signed body are document content, too.
        keep(/<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/.exec(xml)![1]!.replace(/\s+/g, ''));
      }
      const samlOk = await h.post('/oauth/token', { grant_type: SEED_SAML_GRANT, ...auth, SAMLResponse: b64(goodXml) });
      assert.equal(samlOk.statusCode, 200, samlOk.body);
      keep(samlOk.json().access_token);
      await h.post('/oauth/token', { grant_type: SEED_SAML_GRANT, ...auth, SAMLResponse: b64(goodXml) }); // replay
      await h.post('/oauth/token', { grant_type: SEED_SAML_GRANT, ...auth, SAMLResponse: b64(badXml) });
      const rfc = await h.post('/oauth/token', { grant_type: RFC7522_SAML_GRANT, ...auth, assertion: b64url(bareXml) });
      assert.equal(rfc.statusCode, 200, rfc.body);
      keep(rfc.json().access_token);

      // The operator rotates the client secret; the new one is used once.
      const rotated = await h.services.clients.rotateClientSecret(s.clientId);
      keep(rotated.client_secret);
      await h.post('/oauth/introspect', { client_id: s.clientId, client_secret: rotated.client_secret, token: samlOk.json().access_token });

      // Contract §6–§8: JWT access tokens (and their jti), service tokens, a resource server's introspection.
      const jwtApp = await h.seed({ client: { accessTokenFormat: 'jwt', scopes: ['orders:read'] } });
      keep(jwtApp.clientSecret, jwtApp.password);
      const api = await h.resourceServer('https://orders.example');
      keep(api.clientSecret);
      const jwt = await h.post('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: jwtApp.clientId,
        client_secret: jwtApp.clientSecret,
        email: jwtApp.email,
        password: jwtApp.password,
        resource: api.audience,
      });
      assert.equal(jwt.statusCode, 200, jwt.body);
      keep(jwt.json().access_token, String(JSON.parse(Buffer.from(jwt.json().access_token.split('.')[1], 'base64url').toString()).jti));
      await h.post('/oauth/introspect', { client_id: api.clientId, client_secret: api.clientSecret, token: jwt.json().access_token });
      const machine = await h.seed({ client: { service: true, redirectUrls: [], accessTokenFormat: 'jwt' } });
      keep(machine.clientSecret);
      const serviceToken = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { headers: { authorization: basicAuth(machine.clientId, machine.clientSecret) } },
      );
      assert.equal(serviceToken.statusCode, 200, serviceToken.body);
      keep(serviceToken.json().access_token);
      await h.post('/oauth/revoke', {
        client_id: machine.clientId,
        client_secret: machine.clientSecret,
        token: serviceToken.json().access_token,
      });

      const events = JSON.stringify(await allEvents(h));
      const logs = h.logs.join('\n');
      assert.ok(events.length > 1000 && logs.length > 1000, 'there was plenty to scan');
      assert.ok(secrets.length >= 30);
      for (const secret of secrets) {
        for (const spelling of spellings(secret)) {
          assert.equal(events.includes(spelling), false, `a security event holds a secret: ${spelling.slice(0, 40)}`);
          assert.equal(logs.includes(spelling), false, `a log line holds a secret: ${spelling.slice(0, 40)}`);
        }
      }
      // Nor does the throttle table key what was typed into the email field.
      assert.equal(await h.store.throttle.find('account:typed-1nto-the-email-field!'), undefined);
    });
  });
}
