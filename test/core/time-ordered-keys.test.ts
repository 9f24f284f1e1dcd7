/**
 * Issue #18, "tokens whose stored key appends": access and refresh tokens, codes, JWT ids,
 * sessions and security events begin with the millisecond they were made, and tokens and codes
 * are stored under that prefix followed by their hash, so each new row's key sorts after the
 * previous one's. Tokens and codes made by the previous release — no prefix, stored under their
 * hash alone — keep working after an upgrade until they expire.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashSecret, newSecret, randomBase64url, storedKey } from '../../src/crypto/secrets.ts';
import { DEFAULT_ORG_ID, LATEST_SCHEMA_VERSION } from '../../src/store/migrations.ts';
import { databaseAtSchema } from '../store/support.ts';
import { createHarness, freshDatabase, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';

const CALLBACK = 'https://app.example/callback';
const VERIFIER = 'time-ordered-keys-test-verifier-0123456789-abcdefghijklmnop';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

/** A credential as the previous release made it: kind prefix and 256 random bits, stored under its hash alone. */
const legacy = (prefix: string) => `${prefix}${randomBase64url(32)}`;

for (const kind of storeKinds()) {
  describe(`time-ordered token keys [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind });
    });
    after(() => h.close());

    const seed = () => h.seed({ client: { refreshTokens: true, redirectUrls: [CALLBACK] } });
    const refreshWith = (s: Seeded, token: string) =>
      h.post('/oauth/token', { grant_type: 'refresh_token', client_id: s.clientId, client_secret: s.clientSecret, refresh_token: token });

    test('new tokens and sessions carry the time they were made; their stored keys sort in that order', async () => {
      const s = await seed();
      const made: Array<{ access: string; sid: string; before: number; after: number }> = [];
      for (let i = 0; i < 4; i++) {
        const before = Date.now();
        const body = (await passwordLogin(h, s)).json();
        const after = Date.now();
        const sid = (await introspect(h, s, body.access_token)).json().sid as string;
        made.push({ access: body.access_token, sid, before, after });
        await sleep(3);
      }
      for (const m of made) {
        assert.match(m.access, /^sat_[0-9a-f]{12}[A-Za-z0-9_-]{43}$/);
        assert.match(m.sid, /^ses_[0-9a-f]{12}[A-Za-z0-9_-]{12}$/);
        const at = Number.parseInt(m.access.slice(4, 16), 16);
        assert.ok(at >= m.before && at <= m.after, `${at} within [${m.before}, ${m.after}]`);
        // Stored under the time, then the hash: nothing of the secret part but its hash.
        const key = storedKey(m.access);
        assert.equal(key, m.access.slice(4, 16) + hashSecret(m.access));
        assert.equal((await h.store.tokens.findAccess(key))?.sessionId, m.sid);
      }
      const keys = made.map((m) => storedKey(m.access));
      assert.deepEqual([...keys].sort(), keys, 'access-token keys in the order the tokens were made');
      const sids = made.map((m) => m.sid);
      assert.deepEqual([...sids].sort(), sids, 'session ids in the order the sessions began');
    });

    test('a token whose time digits were altered, or are not hex, is unknown', async () => {
      const s = await seed();
      const body = (await passwordLogin(h, s)).json();
      const token = body.access_token as string;
      const lastDigit = token[15] === '0' ? '1' : '0';
      const shifted = token.slice(0, 15) + lastDigit + token.slice(16);
      const notHex = `${token.slice(0, 4)}G${token.slice(5)}`;
      for (const forged of [shifted, notHex]) {
        assert.deepEqual((await introspect(h, s, forged)).json(), { active: false });
      }
      // A refresh token as this release makes it (the seed's password login gives none), planted in the session.
      const refresh = newSecret('refresh_token');
      const sid = (await introspect(h, s, token)).json().sid as string;
      await h.store.tokens.createRefresh({
        hash: storedKey(refresh),
        sessionId: sid,
        expiresAt: Date.now() + 86_400_000,
        createdAt: Date.now(),
      });
      assert.match(refresh, /^srt_[0-9a-f]{12}[A-Za-z0-9_-]{43}$/);
      const res = await refreshWith(s, `${refresh.slice(0, 15)}${refresh[15] === '0' ? '1' : '0'}${refresh.slice(16)}`);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_grant');
      assert.equal((await introspect(h, s, token)).json().active, true, 'the real token still works');
      assert.equal((await refreshWith(s, refresh)).statusCode, 200, 'and so does the real refresh token');
    });

    test('tokens and a code from the previous release (stored under their hash alone) keep working', async () => {
      const s = await seed();
      const login = (await passwordLogin(h, s)).json();
      const sid = (await introspect(h, s, login.access_token)).json().sid as string;
      const now = Date.now();
      const oldAccess = legacy('sat_');
      const oldRefresh = legacy('srt_');
      const oldCode = legacy('sac_');
      await h.store.tokens.createAccess({
        hash: hashSecret(oldAccess),
        sessionId: sid,
        expiresAt: now + 3_600_000,
        createdAt: now,
        scope: '',
        audience: h.issuer,
      });
      await h.store.tokens.createRefresh({ hash: hashSecret(oldRefresh), sessionId: sid, expiresAt: now + 86_400_000, createdAt: now });
      await h.store.codes.create({
        hash: hashSecret(oldCode),
        clientId: s.clientId,
        userId: s.userId,
        redirectUri: CALLBACK,
        redirectUriGiven: true,
        codeChallenge: CHALLENGE,
        expiresAt: now + 60_000,
        usedAt: null,
        sessionId: null,
        createdAt: now,
        scope: '',
      });

      const introspected = (await introspect(h, s, oldAccess)).json();
      assert.equal(introspected.active, true);
      assert.equal(introspected.sid, sid);

      const refreshed = await refreshWith(s, oldRefresh);
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      assert.match(refreshed.json().refresh_token, /^srt_[0-9a-f]{12}/, 'what it is rotated into is time-ordered');
      assert.equal((await h.store.tokens.findRefresh(hashSecret(oldRefresh)))?.rotatedAt !== null, true, 'the old token is rotated');

      const exchangeOldCode = () =>
        h.post('/oauth/token', {
          grant_type: 'authorization_code',
          client_id: s.clientId,
          client_secret: s.clientSecret,
          code: oldCode,
          redirect_uri: CALLBACK,
          code_verifier: VERIFIER,
        });
      const exchanged = await exchangeOldCode();
      assert.equal(exchanged.statusCode, 200, exchanged.body);
      const again = await exchangeOldCode();
      assert.equal(again.json().error, 'invalid_grant', 'an old code is still single use');

      const revoked = await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token: oldAccess });
      assert.equal(revoked.statusCode, 200);
      assert.deepEqual((await introspect(h, s, oldAccess)).json(), { active: false });
    });
  });
}

for (const kind of storeKinds()) {
  describe(`upgrading a database of the previous release [${kind}]`, () => {
    test('a database at schema 11 opens at the latest schema; its tokens, stored under their hash alone, still introspect and refresh', async () => {
      const db = await freshDatabase(kind);
      const clientSecret = `scs_${randomBase64url(32)}`;
      const access = legacy('sat_');
      const refresh = legacy('srt_');
      const now = Date.now();
      try {
        // What the previous release (schema 11) wrote: a client, a user, a session and its tokens.
        await databaseAtSchema(kind, db.url, 11, async (tx) => {
          await tx.run(
            `INSERT INTO clients (id, name, secret_hash, redirect_urls, refresh_tokens, token_type, refresh_grace, query_secrets, disabled, created_at)
             VALUES ('cl_prev', 'previous', ?, '["https://prev.example/cb"]', 1, 'BearerToken', 0, 1, 0, ?)`,
            [hashSecret(clientSecret), now],
          );
          await tx.run(
            `INSERT INTO users (id, org_id, email, email_key, disabled, created_at) VALUES ('usr_prev', ?, 'prev@example.com', 'prev@example.com', 0, ?)`,
            [DEFAULT_ORG_ID, now],
          );
          await tx.run(
            `INSERT INTO sessions (id, user_id, client_id, grant_type, redirect_url, started_at, expires_at, scope, audience)
             VALUES ('ses_prev', 'usr_prev', 'cl_prev', 'client_credentials', '', ?, ?, '', NULL)`,
            [now, now + 3_600_000],
          );
          await tx.run('INSERT INTO access_tokens (hash, session_id, expires_at, created_at, scope) VALUES (?, ?, ?, ?, ?)', [
            hashSecret(access),
            'ses_prev',
            now + 3_600_000,
            now,
            '',
          ]);
          await tx.run('INSERT INTO refresh_tokens (hash, session_id, expires_at, created_at) VALUES (?, ?, ?, ?)', [
            hashSecret(refresh),
            'ses_prev',
            now + 86_400_000,
            now,
          ]);
        });
        const h = await createHarness({ kind, databaseUrl: db.url });
        try {
          await h.store.ping(); // throws unless the schema is at LATEST_SCHEMA_VERSION
          assert.equal(LATEST_SCHEMA_VERSION, 12);
          const client = { clientId: 'cl_prev', clientSecret, audience: h.issuer };
          const introspected = (await introspect(h, client, access)).json();
          assert.equal(introspected.active, true);
          assert.equal(introspected.sid, 'ses_prev');
          const refreshed = await h.post('/oauth/token', {
            grant_type: 'refresh_token',
            client_id: 'cl_prev',
            client_secret: clientSecret,
            refresh_token: refresh,
          });
          assert.equal(refreshed.statusCode, 200, refreshed.body);
          assert.match(refreshed.json().access_token, /^sat_[0-9a-f]{12}/);
        } finally {
          await h.close();
        }
      } finally {
        await db.drop();
      }
    });
  });
}
