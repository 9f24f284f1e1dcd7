import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { storedKey } from '../../src/crypto/secrets.ts';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { authorizeQuery, CALLBACK, getAuthorize, openLoginPage, pkcePair, setCookies, submitLogin } from './flow.ts';

const BAD_LOGIN = 'The email or password is incorrect.';

for (const kind of storeKinds()) {
  describe(`POST /oauth/authorize, the login form [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    before(async () => {
      h = await createHarness({ kind });
      // The form is what is tested here, not PKCE: a client that allows requests without it.
      s = await h.seed({ client: { allowNoPkce: true } });
    });
    after(() => h.close());

    test('a correct login redirects (303) to the redirect URI with a code and the state', async () => {
      const { challenge } = pkcePair();
      const page = await openLoginPage(
        h,
        authorizeQuery(s, { redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256' }),
      );
      const res = await submitLogin(h, page, { email: s.email, password: s.password });
      assert.equal(res.statusCode, 303);
      const location = new URL(String(res.headers.location));
      assert.equal(`${location.origin}${location.pathname}`, CALLBACK);
      assert.deepEqual([...location.searchParams.keys()].sort(), ['code', 'iss', 'state']);
      assert.equal(location.searchParams.get('state'), 'xyz-state');
      // RFC 9207: the authorization response names the issuer.
      assert.equal(location.searchParams.get('iss'), h.issuer);
      const code = location.searchParams.get('code')!;
      assert.match(code, /^sac_[0-9a-f]{12}[A-Za-z0-9_-]{43}$/, 'its time, then 256 random bits');
      // Stored hashed, with every binding.
      const stored = await h.store.codes.find(storedKey(code));
      assert.ok(stored);
      assert.equal(stored.clientId, s.clientId);
      assert.equal(stored.userId, s.userId);
      assert.equal(stored.redirectUri, CALLBACK);
      assert.equal(stored.redirectUriGiven, true);
      assert.equal(stored.codeChallenge, challenge);
      assert.equal(stored.expiresAt - stored.createdAt, 60_000);
      assert.equal(stored.usedAt, null);
    });

    test('no password, code or CSRF token reaches the logs', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const wrong = 'a-wrong-password-to-look-for';
      await submitLogin(h, page, { email: s.email, password: wrong });
      const res = await submitLogin(h, page, { email: s.email, password: s.password });
      const code = new URL(String(res.headers.location)).searchParams.get('code')!;
      const logs = h.logs.join('\n');
      assert.match(logs, /\/oauth\/authorize/, 'the requests were logged');
      for (const secret of [s.password, wrong, code, page.fields.csrf_token!]) assert.ok(!logs.includes(secret), 'a secret in the logs');
    });

    test('without state, the redirect carries only the code and the issuer', async () => {
      const page = await openLoginPage(h, authorizeQuery(s, { state: undefined }));
      const res = await submitLogin(h, page, { email: s.email, password: s.password });
      assert.equal(res.statusCode, 303);
      assert.deepEqual([...new URL(String(res.headers.location)).searchParams.keys()], ['code', 'iss']);
    });

    test('a wrong password shows the error on the page, keeps the email, issues no code, records login_failed', async () => {
      const u = await h.seed({ client: { allowNoPkce: true } });
      const page = await openLoginPage(h, authorizeQuery(u));
      const res = await submitLogin(h, page, { email: u.email, password: 'wrong password entirely' });
      assert.equal(res.statusCode, 400);
      assert.equal(res.headers.location, undefined);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, new RegExp(`<div class="alert" id="form-error" role="alert">${BAD_LOGIN}</div>`));
      assert.match(res.body, /aria-invalid="true" aria-describedby="form-error"/);
      assert.ok(res.body.includes(`value="${u.email}"`), 'the email is kept');
      assert.match(res.body, /name="csrf_token" value="[^"]+"/);
      const events = await h.store.events.list({ userId: u.userId });
      const failed = events.filter((e) => e.type === 'login_failed' && e.reason === 'bad_password');
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.clientId, u.clientId);
    });

    test('an unknown email gets exactly the same message as a wrong password', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const unknown = await submitLogin(h, page, { email: 'nobody@example.com', password: s.password });
      const wrong = await submitLogin(h, page, { email: s.email, password: 'not the password!' });
      assert.equal(unknown.statusCode, wrong.statusCode);
      const alert = (body: string) => /role="alert">([^<]*)</.exec(body)?.[1];
      assert.equal(alert(unknown.body), BAD_LOGIN);
      assert.equal(alert(unknown.body), alert(wrong.body));
      const events = await h.store.events.list({});
      assert.ok(events.some((e) => e.type === 'login_failed' && e.reason === 'unknown_user' && e.clientId === s.clientId));
    });

    test('an email with a NUL byte is refused in HTML, not a server error, and issues no code', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const res = await submitLogin(h, page, { email: `${s.email}\u0000`, password: s.password });
      assert.equal(res.statusCode, 400);
      assert.equal(res.headers.location, undefined);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /role="alert"/);
    });

    test('a disabled user cannot sign in, with the same message', async () => {
      const other = await h.seed({ client: { allowNoPkce: true } });
      await h.services.accounts.setUserDisabled(other.email, true);
      const page = await openLoginPage(h, authorizeQuery(other));
      const res = await submitLogin(h, page, { email: other.email, password: other.password });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, new RegExp(BAD_LOGIN));
    });

    test('the form is read from the body only: credentials in the query string are ignored', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const form = new URLSearchParams(page.fields).toString();
      const query = new URLSearchParams({ email: s.email, password: s.password }).toString();
      const res = await h.app.inject({
        method: 'POST',
        url: `/oauth/authorize?${query}`,
        payload: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie },
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.headers.location, undefined);
      assert.match(res.body, /role="alert">Enter your email address and your password\.</);
    });

    test('a missing password asks for both fields', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const res = await submitLogin(h, page, { email: s.email, password: '' });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, /role="alert">Enter your email address and your password\.</);
    });

    test('CSRF: a submit without the cookie is refused with a fresh form, and no code', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const res = await submitLogin(h, page, { email: s.email, password: s.password }, { cookie: null });
      assert.equal(res.statusCode, 403);
      assert.equal(res.headers.location, undefined);
      assert.match(res.body, /role="alert">This sign-in form has expired/);
      assert.match(String(res.headers['set-cookie']), /^sei_authorize_csrf=/, 'a new token to retry with');
    });

    test('CSRF: a cookie that does not match the field is refused', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const other = await openLoginPage(h, authorizeQuery(s));
      assert.notEqual(page.cookie, other.cookie);
      const res = await submitLogin(h, page, { email: s.email, password: s.password }, { cookie: other.cookie });
      assert.equal(res.statusCode, 403);
      assert.equal(res.headers.location, undefined);
    });

    test('CSRF: a missing token field is refused', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const res = await submitLogin(h, page, { email: s.email, password: s.password }, { fields: { csrf_token: undefined } });
      assert.equal(res.statusCode, 403);
    });

    test('CSRF: a cookie and field chosen by the caller, equal but without the server\'s MAC, are refused: "expired", no code', async () => {
      const random = () => randomBytes(32).toString('base64url');
      const page = await openLoginPage(h, authorizeQuery(s));
      const before = (await h.store.events.list({ userId: s.userId })).length;
      // Well-formed nonce.mac pairs, a bare nonce (the old format), and a real nonce with another MAC.
      const [nonce] = page.fields.csrf_token!.split('.');
      for (const forged of [`${random()}.${random()}`, random(), `${nonce}.${random()}`]) {
        const res = await submitLogin(
          h,
          page,
          { email: s.email, password: s.password },
          { cookie: `sei_authorize_csrf=${forged}`, fields: { csrf_token: forged } },
        );
        assert.equal(res.statusCode, 403, forged);
        assert.equal(res.headers.location, undefined, 'no redirect, so no code');
        assert.match(res.body, /role="alert">This sign-in form has expired/);
        const fresh = setCookies(res)[0]!.split(';')[0]!.split('=')[1]!;
        assert.notEqual(fresh, forged, 'the caller-chosen token is not adopted');
      }
      assert.equal((await h.store.events.list({ userId: s.userId })).length, before, 'the password was not even checked');
    });

    test('CSRF: the login page does not adopt a cookie it did not make', async () => {
      const random = () => randomBytes(32).toString('base64url');
      for (const forged of [`${random()}.${random()}`, random()]) {
        const res = await getAuthorize(h, authorizeQuery(s), { cookie: `sei_authorize_csrf=${forged}` });
        assert.equal(res.statusCode, 200);
        assert.equal(res.body.includes(forged), false, 'not in the form');
        assert.equal(setCookies(res)[0]!.includes(forged), false, 'not set again');
      }
    });

    test('CSRF: a token made by another server (another key) is refused', async () => {
      const other = await createHarness({ kind });
      try {
        const foreign = await openLoginPage(other, authorizeQuery(await other.seed({ client: { allowNoPkce: true } })));
        const page = await openLoginPage(h, authorizeQuery(s));
        const res = await submitLogin(
          h,
          page,
          { email: s.email, password: s.password },
          { cookie: foreign.cookie, fields: { csrf_token: foreign.fields.csrf_token } },
        );
        assert.equal(res.statusCode, 403);
        assert.equal(res.headers.location, undefined);
      } finally {
        await other.close();
      }
    });

    test('CSRF: instances on one database share the key, made once even when they start at the same moment', async () => {
      const first = await createHarness({ kind });
      const second = await createHarness({ kind, databaseUrl: first.databaseUrl });
      try {
        const seeded = await first.seed({ client: { allowNoPkce: true } });
        const query = authorizeQuery(seeded);
        const pages = await Promise.all(Array.from({ length: 10 }, (_, i) => openLoginPage(i % 2 ? second : first, query)));
        // A page from either instance is accepted by the other.
        for (const [i, page] of pages.slice(0, 2).entries()) {
          const res = await submitLogin(i % 2 ? first : second, page, { email: seeded.email, password: seeded.password });
          assert.equal(res.statusCode, 303, res.body);
        }
      } finally {
        await second.close({ drop: false });
        await first.close();
      }
    });

    test('CSRF is checked before the password: a forged submit records no login attempt', async () => {
      const before = (await h.store.events.list({ userId: s.userId })).length;
      const page = await openLoginPage(h, authorizeQuery(s));
      await submitLogin(h, page, { email: s.email, password: 'guess guess guess' }, { cookie: null });
      assert.equal((await h.store.events.list({ userId: s.userId })).length, before);
    });

    test('the hidden fields are re-validated: a swapped redirect_uri gets the error page, no code', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const res = await submitLogin(
        h,
        page,
        { email: s.email, password: s.password },
        { fields: { redirect_uri: 'https://evil.example/cb' } },
      );
      assert.equal(res.statusCode, 400);
      assert.equal(res.headers.location, undefined);
      assert.match(res.body, /not registered/);
    });

    test('the hidden fields are re-validated: a swapped response_type is redirected back with the error', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const res = await submitLogin(h, page, { email: s.email, password: s.password }, { fields: { response_type: 'token' } });
      assert.equal(res.statusCode, 303);
      const location = new URL(String(res.headers.location));
      assert.equal(location.searchParams.get('error'), 'unsupported_response_type');
      assert.equal(location.searchParams.get('state'), 'xyz-state');
      assert.equal(location.searchParams.get('code'), null);
    });

    test('a repeated field on the POST is an error page', async () => {
      const page = await openLoginPage(h, authorizeQuery(s));
      const form = `${new URLSearchParams({ ...page.fields, email: s.email, password: s.password })}&client_id=${s.clientId}`;
      const dup = await h.app.inject({
        method: 'POST',
        url: '/oauth/authorize',
        payload: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie },
      });
      assert.equal(dup.statusCode, 400);
      assert.equal(dup.headers.location, undefined);
      assert.match(dup.body, /client_id is given more than once/);
    });
  });
}
