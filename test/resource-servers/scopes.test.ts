/**
 * Contract §5: scopes on every grant and the authorize request, narrowing on refresh, in the token
 * response and introspection; the login page lists them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exchangeCode, getAuthorize, loginForCode, openLoginPage, pkcePair } from '../code-flow/flow.ts';
import { assertOAuthError } from '../core/support.ts';
import { createHarness, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`scopes [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind });
    });
    after(() => h.close());

    const scoped = (scopes: string[] = ['read', 'write', 'admin:users']) =>
      h.seed({ client: { scopes: scopes.length ? [scopes.join(' ')] : [], refreshTokens: true } });

    async function codeTokens(s: Seeded, scope?: string) {
      const pkce = pkcePair();
      const params = await loginForCode(h, s, { code_challenge: pkce.challenge, code_challenge_method: 'S256', scope });
      const code = params.get('code');
      assert.ok(code, params.toString());
      const res = await exchangeCode(h, s, code, { code_verifier: pkce.verifier });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    }

    test('metadata scopes_supported lists the scopes enabled clients may be granted', async () => {
      await scoped(['meta:one', 'meta:two']);
      const doc = (await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json();
      for (const scope of ['meta:one', 'meta:two']) assert.ok(doc.scopes_supported.includes(scope), scope);
      assert.deepEqual(doc.scopes_supported, [...doc.scopes_supported].sort());
    });

    test('no scope parameter: all the client scopes, in the response and introspection', async () => {
      const s = await scoped();
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().scope, 'read write admin:users');
      assert.equal((await introspect(h, s, res.json().access_token)).json().scope, 'read write admin:users');
    });

    test('a subset is granted as asked (de-duplicated); anything outside the set is invalid_scope and starts nothing', async () => {
      const s = await scoped();
      const res = await passwordLogin(h, s, { scope: 'write read write' });
      assert.equal(res.json().scope, 'write read');
      assertOAuthError(await passwordLogin(h, s, { scope: 'read delete' }), 400, 'invalid_scope');
      assert.equal((await h.store.sessions.listActive(s.userId, Date.now())).length, 1, 'the refused login started no session');
    });

    test('malformed scope values are invalid_scope (an empty one counts as omitted, RFC 6749 §3.1)', async () => {
      const s = await scoped();
      for (const bad of [' read', 'read ', 'read  write', 'rea"d', 'read\\write', 'réad', 'read\twrite']) {
        assertOAuthError(await passwordLogin(h, s, { scope: bad }), 400, 'invalid_scope');
      }
      assert.equal((await passwordLogin(h, s, { scope: '' })).json().scope, 'read write admin:users');
    });

    test('a client without scopes is granted none: no scope in the response, and any requested scope is refused', async () => {
      const s = await h.seed();
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200);
      assert.equal('scope' in res.json(), false, 'contract §3 response unchanged');
      assert.equal('scope' in (await introspect(h, s, res.json().access_token)).json(), false);
      assertOAuthError(await passwordLogin(h, s, { scope: 'read' }), 400, 'invalid_scope');
    });

    test('the login page lists the scopes asked for, escaped', async () => {
      const s = await scoped(['read', 'write', 'x:<b>']);
      const page = await openLoginPage(
        h,
        `response_type=code&client_id=${s.clientId}&scope=read%20x:%3Cb%3E&code_challenge=${pkcePair().challenge}&code_challenge_method=S256`,
      );
      assert.match(page.res.body, /It asks for/);
      assert.match(page.res.body, /<code>read<\/code>/);
      assert.match(page.res.body, /<code>x:&lt;b&gt;<\/code>/);
      assert.doesNotMatch(page.res.body, /<code>write<\/code>/);
      assert.equal(page.fields.scope, 'read x:<b>', 'the scope is carried to the form submit');
    });

    test('authorize request: a scope outside the set redirects with error=invalid_scope', async () => {
      const s = await scoped();
      const res = await getAuthorize(
        h,
        `response_type=code&client_id=${s.clientId}&state=st&scope=delete&code_challenge=${pkcePair().challenge}&code_challenge_method=S256`,
      );
      assert.equal(res.statusCode, 302);
      const location = new URL(String(res.headers.location));
      assert.equal(location.searchParams.get('error'), 'invalid_scope');
      assert.equal(location.searchParams.get('state'), 'st');
    });

    test('code flow: the authorize scope is granted; the exchange may narrow it, never widen it', async () => {
      const s = await scoped();
      const body = await codeTokens(s, 'read write');
      assert.equal(body.scope, 'read write');

      const pkce = pkcePair();
      const params = await loginForCode(h, s, { code_challenge: pkce.challenge, code_challenge_method: 'S256', scope: 'read' });
      assertOAuthError(
        await exchangeCode(h, s, params.get('code')!, { code_verifier: pkce.verifier, scope: 'read write' }),
        400,
        'invalid_scope',
      );
      const narrowed = await exchangeCode(h, s, params.get('code')!, { code_verifier: pkce.verifier, scope: 'read' });
      assert.equal(narrowed.statusCode, 200, 'a refused exchange did not spend the code');
      assert.equal(narrowed.json().scope, 'read');
    });

    test('refresh: narrows for the new access token, never widens; without scope it keeps the scope granted at login', async () => {
      const s = await scoped();
      const first = await codeTokens(s, 'read write');
      const refresh = (token: string, scope?: string) =>
        h.post('/oauth/token', {
          grant_type: 'refresh_token',
          client_id: s.clientId,
          client_secret: s.clientSecret,
          refresh_token: token,
          ...(scope === undefined ? {} : { scope }),
        });
      assertOAuthError(await refresh(first.refresh_token, 'read write admin:users'), 400, 'invalid_scope');
      const narrowed = await refresh(first.refresh_token, 'read');
      assert.equal(narrowed.statusCode, 200, 'a refused refresh did not rotate the token');
      assert.equal(narrowed.json().scope, 'read');
      assert.equal((await introspect(h, s, narrowed.json().access_token)).json().scope, 'read');
      // RFC 6749 §6: the refresh token keeps the original grant; the next refresh without scope gets it all back.
      const again = await refresh(narrowed.json().refresh_token);
      assert.equal(again.json().scope, 'read write');
      assert.equal((await introspect(h, s, again.json().refresh_token)).json().scope, 'read write');
    });
  });
}
