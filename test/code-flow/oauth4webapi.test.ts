/**
 * A real client library none of us wrote: oauth4webapi (panva, OpenID Certified) runs discovery
 * from our RFC 8414 metadata, the code flow with PKCE, a refresh, introspection and revocation.
 * It drives only the protocol; the login page is submitted with fetch, as a browser would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { hiddenFields, listeningHarness } from './flow.ts';

const REDIRECT_URI = 'https://app.example/callback';
// Loopback only: oauth4webapi refuses http:// unless told.
const INSECURE = { [oauth.allowInsecureRequests]: true } as const;

for (const kind of storeKinds()) {
  describe(`oauth4webapi against the server [${kind}]`, () => {
    let h: Harness;
    let origin: string;
    let s: Seeded;
    before(async () => {
      ({ h, origin } = await listeningHarness({ kind }));
      s = await h.seed({ client: { tokenType: 'Bearer', refreshTokens: true, redirectUrls: [REDIRECT_URI] } });
    });
    after(() => h.close());

    /** The user's part: open the page, submit the form, return the Location the server redirects to. */
    async function signIn(authorizationUrl: URL): Promise<URL> {
      const page = await fetch(authorizationUrl);
      assert.equal(page.status, 200);
      const cookie = page.headers
        .getSetCookie()
        .find((c) => c.startsWith('sei_authorize_csrf='))!
        .split(';')[0]!;
      const form = new URLSearchParams({ ...hiddenFields(await page.text()), email: s.email, password: s.password });
      const submitted = await fetch(new URL('/oauth/authorize', origin), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: form,
        redirect: 'manual',
      });
      assert.equal(submitted.status, 303);
      return new URL(submitted.headers.get('location')!);
    }

    test('discovery, code flow with PKCE, refresh, introspection and revocation', async () => {
      const issuer = new URL(origin);
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...INSECURE }));
      assert.equal(as.issuer, origin);
      assert.equal(as.authorization_endpoint, `${origin}/oauth/authorize`);
      assert.deepEqual(as.code_challenge_methods_supported, ['S256']);

      const client: oauth.Client = { client_id: s.clientId };
      const clientAuth = oauth.ClientSecretBasic(s.clientSecret);
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const authorizationUrl = new URL(as.authorization_endpoint!);
      authorizationUrl.search = new URLSearchParams({
        client_id: s.clientId,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();

      const callbackParams = oauth.validateAuthResponse(as, client, await signIn(authorizationUrl), state);
      const tokens = await oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callbackParams, REDIRECT_URI, verifier, INSECURE),
      );
      assert.equal(tokens.token_type, 'bearer');
      assert.ok(tokens.access_token);
      assert.ok(tokens.refresh_token);
      assert.equal(tokens.expires_in, 3600);

      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, INSECURE),
      );
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
      assert.notEqual(refreshed.access_token, tokens.access_token);

      const introspected = await oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, INSECURE),
      );
      assert.equal(introspected.active, true);
      assert.equal(introspected.client_id, s.clientId);
      assert.equal(introspected.username, s.email);
      assert.equal(introspected.iss, origin);

      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token!, INSECURE));
      const afterRevoke = await oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, INSECURE),
      );
      assert.equal(afterRevoke.active, false, 'revoking the refresh token ended the session');
    });

    test('the library sees a reused code as invalid_grant', async () => {
      const as = await oauth.processDiscoveryResponse(
        new URL(origin),
        await oauth.discoveryRequest(new URL(origin), { algorithm: 'oauth2', ...INSECURE }),
      );
      const client: oauth.Client = { client_id: s.clientId };
      const clientAuth = oauth.ClientSecretPost(s.clientSecret);
      const state = oauth.generateRandomState();
      const url = new URL(as.authorization_endpoint!);
      const verifier = oauth.generateRandomCodeVerifier();
      url.search = new URLSearchParams({
        client_id: s.clientId,
        response_type: 'code',
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      const params = oauth.validateAuthResponse(as, client, await signIn(url), state);
      const exchange = () => oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, verifier, INSECURE);
      await oauth.processAuthorizationCodeResponse(as, client, await exchange());
      await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, await exchange()), (error: unknown) => {
        assert.ok(error instanceof oauth.ResponseBodyError);
        assert.equal(error.error, 'invalid_grant');
        return true;
      });
    });
  });
}
