/**
 * Public clients (`client create --public`): a single-page app's part, played by oauth4webapi
 * with `None()` client authentication — code + PKCE + nonce, refresh rotation, userinfo,
 * revocation — and what a public client may not do. Then CORS for its --web-origin: only the
 * token, userinfo, jwks and revocation endpoints, only for registered origins.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { listeningHarness } from '../code-flow/flow.ts';
import { type Harness, storeKinds } from '../support/harness.ts';
import { createUser, FetchBrowser, isActive, type OidcClient, registerClient, type TestUser } from './support.ts';

const INSECURE = { [oauth.allowInsecureRequests]: true } as const;
const SPA_ORIGIN = 'http://127.0.0.1:5173';
const SPA_CALLBACK = `${SPA_ORIGIN}/callback`;
const CORS_PATHS = ['/oauth/token', '/oauth/userinfo', '/oauth/jwks', '/oauth/revoke'];

for (const kind of storeKinds()) {
  describe(`public clients with oauth4webapi, and CORS [${kind}]`, () => {
    let h: Harness;
    let origin: string;
    let spa: OidcClient;
    let other: OidcClient;
    let user: TestUser;
    let as: oauth.AuthorizationServer;
    before(async () => {
      ({ h, origin } = await listeningHarness({ kind }));
      user = await createUser(h);
      spa = await registerClient(h, { name: 'SPA', redirectUrls: [SPA_CALLBACK], public: true, webOrigins: [SPA_ORIGIN] });
      other = await registerClient(h, { name: 'Other SPA', redirectUrls: ['http://127.0.0.1:5174/callback'], public: true });
      const issuer = new URL(origin);
      as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...INSECURE }));
    });
    after(() => h.close());

    /** The SPA's sign-in: returns the token response oauth4webapi validated (ID token included). */
    async function signIn(c: OidcClient = spa) {
      const appClient: oauth.Client = { client_id: c.clientId };
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        client_id: c.clientId,
        redirect_uri: c.redirectUri,
        response_type: 'code',
        scope: 'openid email',
        state,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      const callback = await new FetchBrowser().signIn(url, user);
      const params = oauth.validateAuthResponse(as, appClient, callback, state);
      const response = await oauth.authorizationCodeGrantRequest(as, appClient, oauth.None(), params, c.redirectUri, verifier, INSECURE);
      const tokens = await oauth.processAuthorizationCodeResponse(as, appClient, response, { expectedNonce: nonce, requireIdToken: true });
      return { tokens, appClient, params, verifier };
    }

    test('the public client has no secret, and the metadata offers token_endpoint_auth_method none', async () => {
      assert.equal(spa.clientSecret, undefined);
      assert.ok(as.token_endpoint_auth_methods_supported?.includes('none'));
    });

    test('code + PKCE + nonce with None(): ID token, userinfo, refresh rotation, revocation by client_id alone', async () => {
      const { tokens, appClient } = await signIn();
      const claims = oauth.getValidatedIdTokenClaims(tokens)!;
      assert.equal(claims.aud, spa.clientId);
      assert.equal(claims.sub, user.id);
      assert.equal(tokens.token_type, 'bearer');
      assert.ok(tokens.refresh_token);

      const info = await oauth.processUserInfoResponse(
        as,
        appClient,
        claims.sub,
        await oauth.userInfoRequest(as, appClient, tokens.access_token, INSECURE),
      );
      assert.equal(info.email, user.email);

      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        appClient,
        await oauth.refreshTokenGrantRequest(as, appClient, oauth.None(), tokens.refresh_token!, INSECURE),
      );
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');
      assert.equal(oauth.getValidatedIdTokenClaims(refreshed)?.sub, user.id);
      // The old one is spent.
      await assert.rejects(
        oauth.processRefreshTokenResponse(
          as,
          appClient,
          await oauth.refreshTokenGrantRequest(as, appClient, oauth.None(), tokens.refresh_token!, INSECURE),
        ),
        (error: unknown) => error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant',
      );

      const latest = await signIn();
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, appClient, oauth.None(), latest.tokens.refresh_token!, INSECURE),
      );
      assert.equal(await isActive(h, latest.tokens.access_token), false, 'revoked by the public client');
    });

    test('PKCE is required: an authorize request without code_challenge is invalid_request; --allow-no-pkce is refused for --public', async () => {
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        client_id: spa.clientId,
        redirect_uri: SPA_CALLBACK,
        response_type: 'code',
        scope: 'openid',
        state: 'no-pkce',
      }).toString();
      const res = await new FetchBrowser().authorize(url);
      assert.equal(res.status, 302);
      assert.equal(res.location!.searchParams.get('error'), 'invalid_request');
      assert.equal(res.location!.searchParams.get('state'), 'no-pkce');
      await assert.rejects(
        registerClient(h, { name: 'Bad', redirectUrls: [SPA_CALLBACK], public: true, allowNoPkce: true }),
        /pkce/i,
        'a public client cannot opt out of PKCE',
      );
    });

    test('a public client that sends a secret (post or Basic) is invalid_client', async () => {
      const appClient: oauth.Client = { client_id: spa.clientId };
      const { params, verifier } = await signInForCode();
      for (const auth of [oauth.ClientSecretPost('made-up'), oauth.ClientSecretBasic('made-up')]) {
        await assert.rejects(
          oauth.processAuthorizationCodeResponse(
            as,
            appClient,
            await oauth.authorizationCodeGrantRequest(as, appClient, auth, params, SPA_CALLBACK, verifier, INSECURE),
          ),
          (error: unknown) => error instanceof oauth.ResponseBodyError && error.error === 'invalid_client',
        );
      }
    });

    /** A code for the SPA (not exchanged). */
    async function signInForCode() {
      const appClient: oauth.Client = { client_id: spa.clientId };
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        client_id: spa.clientId,
        redirect_uri: SPA_CALLBACK,
        response_type: 'code',
        scope: 'openid',
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      const callback = await new FetchBrowser().signIn(url, user);
      return { params: oauth.validateAuthResponse(as, appClient, callback, state), verifier };
    }

    test('another client’s refresh token is invalid_grant (refresh tokens are bound to their client)', async () => {
      const { tokens } = await signIn(spa);
      const otherClient: oauth.Client = { client_id: other.clientId };
      await assert.rejects(
        oauth.processRefreshTokenResponse(
          as,
          otherClient,
          await oauth.refreshTokenGrantRequest(as, otherClient, oauth.None(), tokens.refresh_token!, INSECURE),
        ),
        (error: unknown) => error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant',
      );
    });

    test('a public client gets only the code and refresh grants (client_credentials: unauthorized_client), and may not introspect', async () => {
      const grant = await h.post('/oauth/token', { grant_type: 'client_credentials', client_id: spa.clientId });
      assert.equal(grant.statusCode, 400, grant.body);
      assert.equal(grant.json().error, 'unauthorized_client');
      const { tokens } = await signIn();
      const introspection = await h.post('/oauth/introspect', { client_id: spa.clientId, token: tokens.access_token });
      assert.ok([400, 401].includes(introspection.statusCode), introspection.body);
      assert.equal(introspection.json().error, 'invalid_client');
    });

    test('CORS preflight from the registered web origin on token, userinfo, jwks and revoke: 204 with the allow headers', async () => {
      for (const path of CORS_PATHS) {
        const res = await fetch(`${origin}${path}`, {
          method: 'OPTIONS',
          headers: {
            origin: SPA_ORIGIN,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization, content-type',
          },
        });
        assert.equal(res.status, 204, path);
        assert.equal(res.headers.get('access-control-allow-origin'), SPA_ORIGIN, path);
        assert.match(res.headers.get('vary') ?? '', /origin/i, path);
        const methods = (res.headers.get('access-control-allow-methods') ?? '').toUpperCase();
        for (const method of ['GET', 'POST']) assert.ok(methods.includes(method), `${path}: ${method}`);
        const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
        for (const header of ['authorization', 'content-type', 'dpop']) assert.ok(allowed.includes(header), `${path}: ${header}`);
        assert.equal(res.headers.get('access-control-max-age'), '600', path);
      }
    });

    test('CORS on the real requests: the token exchange, userinfo and jwks answer the registered origin', async () => {
      const { params, verifier } = await signInForCode();
      const token = await fetch(`${origin}/oauth/token`, {
        method: 'POST',
        headers: { origin: SPA_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: spa.clientId,
          code: params.get('code')!,
          redirect_uri: SPA_CALLBACK,
          code_verifier: verifier,
        }),
      });
      assert.equal(token.status, 200);
      assert.equal(token.headers.get('access-control-allow-origin'), SPA_ORIGIN);
      const { access_token } = (await token.json()) as { access_token: string };
      const info = await fetch(`${origin}/oauth/userinfo`, { headers: { origin: SPA_ORIGIN, authorization: `Bearer ${access_token}` } });
      assert.equal(info.status, 200);
      assert.equal(info.headers.get('access-control-allow-origin'), SPA_ORIGIN);
      // An error answer carries it too, so the app can read the error.
      const denied = await fetch(`${origin}/oauth/userinfo`, { headers: { origin: SPA_ORIGIN } });
      assert.equal(denied.status, 401);
      assert.equal(denied.headers.get('access-control-allow-origin'), SPA_ORIGIN);
      const jwks = await fetch(`${origin}/oauth/jwks`, { headers: { origin: SPA_ORIGIN } });
      assert.equal(jwks.headers.get('access-control-allow-origin'), SPA_ORIGIN);
    });

    test('CORS: an unregistered origin gets no CORS headers; /oauth/authorize never gets them', async () => {
      for (const path of CORS_PATHS) {
        const res = await fetch(`${origin}${path}`, {
          method: 'OPTIONS',
          headers: { origin: 'http://127.0.0.1:6666', 'access-control-request-method': 'POST' },
        });
        assert.equal(res.headers.get('access-control-allow-origin'), null, path);
        const real = await fetch(`${origin}${path}`, { headers: { origin: 'https://evil.example' } });
        assert.equal(real.headers.get('access-control-allow-origin'), null, path);
      }
      const preflight = await fetch(`${origin}/oauth/authorize`, {
        method: 'OPTIONS',
        headers: { origin: SPA_ORIGIN, 'access-control-request-method': 'GET' },
      });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
      const page = await fetch(`${origin}/oauth/authorize?client_id=${spa.clientId}`, {
        headers: { origin: SPA_ORIGIN },
        redirect: 'manual',
      });
      assert.equal(page.headers.get('access-control-allow-origin'), null);
      // Nor the other endpoints a browser app has no business calling.
      const introspect = await fetch(`${origin}/oauth/introspect`, {
        method: 'OPTIONS',
        headers: { origin: SPA_ORIGIN, 'access-control-request-method': 'POST' },
      });
      assert.equal(introspect.headers.get('access-control-allow-origin'), null);
    });

    test('CORS: a disabled client’s web origin is no longer allowed', async () => {
      const webOrigin = 'http://127.0.0.1:5175';
      const c = await registerClient(h, {
        name: 'Soon disabled',
        redirectUrls: [`${webOrigin}/cb`],
        public: true,
        webOrigins: [webOrigin],
      });
      const preflight = () =>
        fetch(`${origin}/oauth/token`, { method: 'OPTIONS', headers: { origin: webOrigin, 'access-control-request-method': 'POST' } });
      assert.equal((await preflight()).headers.get('access-control-allow-origin'), webOrigin);
      await h.services.clients.setClientDisabled(c.clientId, true);
      assert.equal((await preflight()).headers.get('access-control-allow-origin'), null);
    });
  });
}
