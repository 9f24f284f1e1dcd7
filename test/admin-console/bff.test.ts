/**
 * The admin console's backend-for-frontend over HTTP: sign-in through the code flow with PKCE,
 * its cookies, the page's CSP, the bundle's caching and size, the proxy's CSRF check, sign-out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { hashSecret } from '../../src/crypto/secrets.ts';
import { CONSOLE_CLIENT_ID, ensureConsoleClient } from '../../src/http/console/console-client.ts';
import { CONSOLE_CSP } from '../../src/http/console/console-page.ts';
import { openLoginPage, setCookies, submitLogin } from '../code-flow/flow.ts';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { CONSOLE_HEADER, consoleSignIn, cookieOf } from './console-sign-in.ts';

for (const kind of storeKinds()) {
  describe(`admin console BFF [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    before(async () => {
      h = await createHarness({ kind });
      await h.app.ready();
      s = await h.seed();
      await h.store.users.update(s.userId, { role: 'admin' });
    });
    after(() => h.close());

    test('the console client exists after start: PKCE, scope admin, the callback as its only redirect URL', async () => {
      const client = await h.store.clients.find(CONSOLE_CLIENT_ID);
      assert.ok(client);
      assert.equal(client.requirePkce, true);
      assert.deepEqual(client.scopes, ['admin']);
      assert.deepEqual(client.redirectUrls, [`${h.issuer}/admin/callback`]);
      // Idempotent, and it follows a changed ISSUER.
      const moved = await ensureConsoleClient({ store: h.store, clock: h.clock, issuer: 'https://auth.elsewhere.example' });
      assert.deepEqual(moved.redirectUrls, ['https://auth.elsewhere.example/admin/callback']);
      const back = await ensureConsoleClient({ store: h.store, clock: h.clock, issuer: h.issuer });
      assert.deepEqual(back.redirectUrls, [`${h.issuer}/admin/callback`]);
      assert.equal(back.id, CONSOLE_CLIENT_ID);
    });

    test('GET /admin and its pages without a session redirect to /admin/login', async () => {
      for (const url of ['/admin', '/admin/users', '/admin/events?type=login']) {
        const res = await h.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 302, url);
        assert.equal(res.headers.location, '/admin/login');
      }
      assert.equal((await h.app.inject({ method: 'GET', url: '/admin/nope' })).statusCode, 404);
    });

    test('/admin/login starts the code flow with S256 PKCE and a state, kept server-side behind a Lax HttpOnly cookie', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/admin/login' });
      assert.equal(res.statusCode, 302);
      const location = new URL(String(res.headers.location), h.issuer);
      assert.equal(location.pathname, '/oauth/authorize');
      const q = location.searchParams;
      assert.equal(q.get('client_id'), CONSOLE_CLIENT_ID);
      assert.equal(q.get('redirect_uri'), `${h.issuer}/admin/callback`);
      assert.equal(q.get('scope'), 'admin');
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.match(q.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
      const cookie = cookieOf(setCookies(res), /^sei_console_signin=/);
      assert.ok(cookie);
      assert.match(cookie, /; HttpOnly/);
      assert.match(cookie, /; SameSite=Lax/);
      assert.match(cookie, /; Path=\/admin/);
      // The verifier is not in the cookie: only a random id, whose hash keys the sealed row.
      const id = cookie.split(';')[0]!.split('=')[1]!;
      const row = await h.store.consoleSessions.find(hashSecret(id));
      assert.ok(row);
      assert.equal(row.userId, null);
      assert.ok(!row.sealed.includes(q.get('state')!), 'the state is sealed');
    });

    test('sign-in: the callback opens a session behind a Strict HttpOnly cookie; no token reaches the browser or the database in clear', async () => {
      const signIn = await consoleSignIn(h, s);
      assert.match(signIn.setCookie, /; HttpOnly/);
      assert.match(signIn.setCookie, /; SameSite=Strict/);
      assert.doesNotMatch(signIn.setCookie, /sat_|srt_/);
      const id = signIn.cookie.split('=')[1]!;
      const row = await h.store.consoleSessions.find(hashSecret(id));
      assert.ok(row);
      assert.equal(row.userId, s.userId);
      assert.doesNotMatch(row.sealed, /sat_|srt_/, 'tokens are sealed');
      // A sei-auth session of the console client for the user.
      const sessions = await h.services.sessions.listActive(s.userId);
      assert.ok(sessions.some((session) => session.clientId === CONSOLE_CLIENT_ID));

      const me = await h.app.inject({ method: 'GET', url: '/admin/session', headers: { cookie: signIn.cookie } });
      assert.equal(me.statusCode, 200);
      assert.equal(me.json().email, s.email);
      assert.equal(me.json().user_id, s.userId);
      assert.ok(!me.body.includes('sat_'));
    });

    test('a callback with another state, or without the sign-in cookie, is refused and opens nothing', async () => {
      const start = await h.app.inject({ method: 'GET', url: '/admin/login' });
      const signIn = cookieOf(setCookies(start), /^sei_console_signin=/)!.split(';')[0]!;
      const page = await openLoginPage(h, new URL(String(start.headers.location), h.issuer).search.slice(1));
      const submitted = await submitLogin(h, page, s);
      const callback = new URL(String(submitted.headers.location));
      const wrongState = new URL(callback);
      wrongState.searchParams.set('state', 'x'.repeat(43));
      const refused = await h.app.inject({ method: 'GET', url: `${wrongState.pathname}${wrongState.search}`, headers: { cookie: signIn } });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.body, /Sign in again/);
      assert.equal(cookieOf(setCookies(refused), /^sei_console=[^;]/), undefined);
      // The pending sign-in was spent by the failed attempt: the right state no longer works either.
      const again = await h.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, headers: { cookie: signIn } });
      assert.equal(again.statusCode, 400);
      const noCookie = await h.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}` });
      assert.equal(noCookie.statusCode, 400);
    });

    test('the page: strict CSP, no inline script, hashed assets cached for a year and served compressed; first load under 200 KB', async () => {
      const { cookie } = await consoleSignIn(h, s);
      const page = await h.app.inject({ method: 'GET', url: '/admin/users', headers: { cookie, 'accept-encoding': 'gzip' } });
      assert.equal(page.statusCode, 200);
      assert.equal(page.headers['content-security-policy'], CONSOLE_CSP);
      assert.equal(
        CONSOLE_CSP,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      assert.equal(page.headers['x-frame-options'], 'DENY');
      assert.equal(page.headers['cache-control'], 'no-store');
      assert.doesNotMatch(page.body, /<script>|<script [^>]*>[^<]/, 'no inline script');
      assert.doesNotMatch(page.body, /https?:\/\//, 'nothing from another origin (no CDN)');
      const assets = [...page.body.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      assert.equal(assets.length, 2);
      let transferred = page.rawPayload.length;
      for (const url of assets) {
        const asset = await h.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, deflate, br' } });
        assert.equal(asset.statusCode, 200);
        assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
        assert.equal(asset.headers['content-encoding'], 'br');
        assert.equal(asset.headers['content-security-policy'], CONSOLE_CSP);
        const gz = await h.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
        assert.equal(gz.headers['content-encoding'], 'gzip');
        assert.ok(gunzipSync(gz.rawPayload).length > gz.rawPayload.length);
        transferred += gz.rawPayload.length;
      }
      // Issue #15 (speed): the first load transfers under 200 KB compressed (gzip, the larger of the two).
      assert.ok(transferred < 200 * 1024, `first load ${transferred} bytes`);
      console.log(`# admin console first load: ${transferred} bytes (gzip)`);
    });

    test('the proxy refuses calls without the console header, or from another site; with it, it forwards with the Bearer token', async () => {
      const { cookie } = await consoleSignIn(h, s);
      const bare = await h.app.inject({ method: 'GET', url: '/admin/api/users', headers: { cookie } });
      assert.equal(bare.statusCode, 403);
      assert.match(String(bare.headers['content-type']), /^application\/problem\+json/);
      const crossSite = await h.app.inject({
        method: 'POST',
        url: '/admin/api/users',
        headers: { cookie, ...CONSOLE_HEADER, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
        payload: '{}',
      });
      assert.equal(crossSite.statusCode, 403);
      const otherOrigin = await h.app.inject({
        method: 'GET',
        url: '/admin/api/users',
        headers: { cookie, ...CONSOLE_HEADER, origin: 'https://evil.example' },
      });
      assert.equal(otherOrigin.statusCode, 403);
      const signedOut = await h.app.inject({ method: 'GET', url: '/admin/api/users', headers: CONSOLE_HEADER });
      assert.equal(signedOut.statusCode, 401);
      const forwarded = await h.app.inject({ method: 'GET', url: '/admin/api/users?limit=1', headers: { cookie, ...CONSOLE_HEADER } });
      assert.equal(forwarded.statusCode, 200, forwarded.body);
      assert.equal(forwarded.json().items.length, 1);
      assert.ok('next_cursor' in forwarded.json());
      // JSON bodies pass through, and the API's problems come back as they are.
      const refused = await h.app.inject({
        method: 'POST',
        url: '/admin/api/users',
        headers: { cookie, ...CONSOLE_HEADER, 'content-type': 'application/json' },
        payload: JSON.stringify({ email: 'x@example.com', surprise: true }),
      });
      assert.equal(refused.statusCode, 400);
      assert.match(String(refused.headers['content-type']), /^application\/problem\+json/);
      assert.match(refused.json().detail, /unknown field/);
      const created = await h.app.inject({
        method: 'POST',
        url: '/admin/api/users',
        headers: { cookie, ...CONSOLE_HEADER, 'content-type': 'application/json' },
        payload: JSON.stringify({ email: `proxied-${Date.now()}@example.com` }),
      });
      assert.equal(created.statusCode, 201, created.body);
      // The API saw the signed-in user as the actor.
      const events = await h.app.inject({
        method: 'GET',
        url: `/admin/api/events?user=${created.json().id}`,
        headers: { cookie, ...CONSOLE_HEADER },
      });
      assert.equal(events.statusCode, 200, events.body);

      // A user without an admin role signs in, but the API refuses them.
      const plain = await h.seed();
      const other = await consoleSignIn(h, plain);
      const forbidden = await h.app.inject({
        method: 'GET',
        url: '/admin/api/users',
        headers: { cookie: other.cookie, ...CONSOLE_HEADER },
      });
      assert.equal(forbidden.statusCode, 403);
    });

    test('sign-out needs the header, revokes the tokens (the sei-auth session ends) and clears the cookie', async () => {
      const { cookie } = await consoleSignIn(h, s);
      const id = cookie.split('=')[1]!;
      const before = (await h.services.sessions.listActive(s.userId)).filter((x) => x.clientId === CONSOLE_CLIENT_ID).length;
      assert.equal((await h.app.inject({ method: 'POST', url: '/admin/logout', headers: { cookie } })).statusCode, 403);
      const out = await h.app.inject({ method: 'POST', url: '/admin/logout', headers: { cookie, ...CONSOLE_HEADER } });
      assert.equal(out.statusCode, 204);
      assert.match(cookieOf(setCookies(out), /^sei_console=/) ?? '', /Max-Age=0/);
      assert.equal(await h.store.consoleSessions.find(hashSecret(id)), undefined);
      const afterOut = (await h.services.sessions.listActive(s.userId)).filter((x) => x.clientId === CONSOLE_CLIENT_ID).length;
      assert.equal(afterOut, before - 1, 'the server session behind the tokens ended');
      const page = await h.app.inject({ method: 'GET', url: '/admin', headers: { cookie } });
      assert.equal(page.statusCode, 302);
    });
  });
}
