/**
 * POST /oauth/token, the successful paths: the seed's password login (grant_type=client_credentials
 * with email + password) and its RFC alias (grant_type=password with username), parameters from the
 * query string, the body or both, client authentication by parameters or HTTP Basic, and the
 * per-client settings that shape the response.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createHarness, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { basicAuth, percentEncodeAll } from './support.ts';

const SEED_FIELDS = ['access_token', 'email', 'expires_in', 'redirect_url', 'token_type'];

for (const kind of storeKinds()) {
  describe(`token endpoint, password login [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    before(async () => {
      h = await createHarness({ kind });
      s = await h.seed({ client: { redirectUrls: ['https://app.example/callback', 'https://app.example/other'] } });
    });
    after(() => h.close());

    test('the seed form in the body returns exactly the seed fields', async () => {
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers.pragma, 'no-cache');
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), SEED_FIELDS);
      assert.match(body.access_token, /^sat_[0-9a-f]{12}[A-Za-z0-9_-]{43}$/);
      assert.equal(body.token_type, 'BearerToken');
      assert.equal(body.expires_in, 3600);
      assert.equal(body.email, s.email);
    });

    test('redirect_url is the first registered redirect URL', async () => {
      const res = await passwordLogin(h, s);
      assert.equal(res.json().redirect_url, 'https://app.example/callback');
    });

    test('the seed form entirely in the query string returns the seed fields', async () => {
      const query = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        email: s.email,
        password: s.password,
      }).toString();
      const res = await h.post('/oauth/token', {}, { query });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(Object.keys(res.json()).sort(), SEED_FIELDS);
    });

    test('parameters split between the query string and the body are combined', async () => {
      const query = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
      }).toString();
      const res = await h.post('/oauth/token', { email: s.email, password: s.password }, { query });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().email, s.email);
    });

    test('grant_type=password with username is accepted as an alias of the seed form', async () => {
      const res = await h.post('/oauth/token', {
        grant_type: 'password',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        username: s.email,
        password: s.password,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(Object.keys(res.json()).sort(), SEED_FIELDS);
      assert.equal(res.json().email, s.email);
    });

    test('the email is matched case-insensitively', async () => {
      const res = await passwordLogin(h, s, { email: s.email.toUpperCase() });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().email, s.email);
    });

    test('the client may authenticate with HTTP Basic instead of parameters', async () => {
      const res = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', email: s.email, password: s.password },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().token_type, 'BearerToken');
    });

    test('HTTP Basic credentials are form-decoded (RFC 6749 Appendix B)', async () => {
      // Every character percent-encoded is a valid form encoding; the server must decode it.
      const res = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', email: s.email, password: s.password },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret, percentEncodeAll) } },
      );
      assert.equal(res.statusCode, 200, res.body);
    });

    test('HTTP Basic with a matching client_id parameter is accepted', async () => {
      const res = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', client_id: s.clientId, email: s.email, password: s.password },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );
      assert.equal(res.statusCode, 200, res.body);
    });

    test('endOtherSessions=false is accepted and is the default', async () => {
      const res = await passwordLogin(h, s, { endOtherSessions: 'false' });
      assert.equal(res.statusCode, 200, res.body);
    });

    test('a login starts one session, which introspects as active', async () => {
      const before = (await h.store.sessions.listActive(s.userId, h.clock.now())).length;
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200);
      const sessions = await h.store.sessions.listActive(s.userId, h.clock.now());
      assert.equal(sessions.length, before + 1);
      const info = (await introspect(h, s, res.json().access_token)).json();
      assert.equal(info.active, true);
      assert.ok(sessions.some((x) => x.id === info.sid));
      assert.equal(info.client_id, s.clientId);
      assert.equal(info.email, s.email);
      assert.equal(info.sub, s.userId);
    });

    test('every login issues a fresh, different access token', async () => {
      const [a, b] = await Promise.all([passwordLogin(h, s), passwordLogin(h, s)]);
      assert.equal(a.statusCode, 200);
      assert.equal(b.statusCode, 200);
      assert.notEqual(a.json().access_token, b.json().access_token);
    });

    test('a successful login is recorded as login_succeeded and session_started events', async () => {
      const res = await passwordLogin(h, s);
      const sid = (await introspect(h, s, res.json().access_token)).json().sid as string;
      const events = (await h.store.events.list({ userId: s.userId })).filter((e) => e.sessionId === sid);
      assert.deepEqual(events.map((e) => e.type).sort(), ['login_succeeded', 'session_started']);
      assert.ok(events.every((e) => e.clientId === s.clientId));
    });
  });

  describe(`token endpoint, per-client settings [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind });
    });
    after(() => h.close());

    test("a client created with tokenType 'Bearer' gets token_type Bearer", async () => {
      const s = await h.seed({ client: { tokenType: 'Bearer' } });
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().token_type, 'Bearer');
      assert.equal((await introspect(h, s, res.json().access_token)).json().token_type, 'Bearer');
    });

    test("a client's accessTtl override changes expires_in", async () => {
      const s = await h.seed({ client: { accessTtl: 120 } });
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().expires_in, 120);
      const info = (await introspect(h, s, res.json().access_token)).json();
      assert.ok(Math.abs(info.exp - (info.iat + 120)) <= 1, `exp ${info.exp} iat ${info.iat}`);
    });

    test('the server-wide ACCESS_TOKEN_TTL applies when the client has no override', async () => {
      const other = await createHarness({ kind, accessTokenTtl: 900 });
      try {
        const s = await other.seed();
        const res = await passwordLogin(other, s);
        assert.equal(res.json().expires_in, 900);
      } finally {
        await other.close();
      }
    });

    test('a password login never returns a refresh token, even for a client with refresh tokens', async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal('refresh_token' in res.json(), false);
      assert.equal('refresh_token_expires_in' in res.json(), false);
    });

    test('a client that opted out of query secrets accepts client_secret in the body', async () => {
      const s = await h.seed({ client: { querySecrets: false } });
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200, res.body);
    });

    test('tokens and client secrets are stored only as hashes', async () => {
      const s = await h.seed();
      const res = await passwordLogin(h, s);
      const token = res.json().access_token as string;
      let everything: string;
      if (kind === 'sqlite') {
        const file = h.databaseUrl.slice('sqlite:'.length);
        everything = [file, `${file}-wal`]
          .filter(existsSync)
          .map((f) => readFileSync(f).toString('latin1'))
          .join('');
      } else {
        const c = new pg.Client({ connectionString: h.databaseUrl });
        await c.connect();
        try {
          const rows = [];
          for (const table of ['access_tokens', 'refresh_tokens', 'clients', 'sessions', 'security_events', 'users']) {
            rows.push(...(await c.query(`SELECT * FROM ${table}`)).rows);
          }
          everything = JSON.stringify(rows);
        } finally {
          await c.end();
        }
      }
      assert.ok(everything.length > 1000, 'read the stored data');
      assert.ok(everything.includes(s.clientId), 'the stored data holds the client id (sanity check)');
      assert.equal(everything.includes(token), false, 'the access token is stored in clear');
      assert.equal(everything.includes(token.slice(4)), false, 'the access token is stored in clear');
      assert.equal(everything.includes(s.clientSecret.slice(4)), false, 'the client secret is stored in clear');
      assert.equal(everything.includes(s.password), false, 'the password is stored in clear');
    });
  });
}
