/**
 * Issue #13 item 9, RFC 9700 §2.1.1: new clients require PKCE on the authorize request;
 * `client create --allow-no-pkce` opts a client out; clients from before schema 4 keep working
 * without it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashSecret, newSecret } from '../../src/crypto/secrets.ts';
import { runBin, runCliInProcess, singleJson } from '../core/support.ts';
import { databaseAtSchema, NOW } from '../store/support.ts';
import { createHarness, freshDatabase, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { authorizeQuery, CALLBACK, exchangeCode, getAuthorize, obtainCode, openLoginPage, pkcePair, submitLogin } from './flow.ts';

const PASSWORD = 'correct horse battery staple';

/** The authorize request was sent back to the client with invalid_request about the missing challenge. */
function assertChallengeRequired(res: { statusCode: number; headers: Record<string, unknown> }, status: number, issuer: string): void {
  assert.equal(res.statusCode, status);
  const location = new URL(String(res.headers.location));
  assert.equal(`${location.origin}${location.pathname}`, CALLBACK);
  assert.equal(location.searchParams.get('error'), 'invalid_request');
  assert.match(location.searchParams.get('error_description') ?? '', /code_challenge is required/);
  assert.equal(location.searchParams.get('state'), 'xyz-state');
  assert.equal(location.searchParams.get('iss'), issuer);
  assert.equal(location.searchParams.get('code'), null);
}

for (const kind of storeKinds()) {
  describe(`PKCE required by default [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    before(async () => {
      h = await createHarness({ kind });
      s = await h.seed();
    });
    after(() => h.close());

    test('a new client: an authorize request without code_challenge is redirected back with invalid_request, no login page', async () => {
      assert.equal((await h.store.clients.find(s.clientId))?.requirePkce, true);
      const res = await getAuthorize(h, authorizeQuery(s));
      assertChallengeRequired(res, 302, h.issuer);
      assert.equal(res.headers['set-cookie'], undefined, 'no login page, so no CSRF cookie');
    });

    test('a new client: with an S256 challenge it signs in, and the code needs the verifier', async () => {
      const { verifier, challenge } = pkcePair();
      const code = await obtainCode(h, s, { code_challenge: challenge, code_challenge_method: 'S256' });
      assert.equal((await exchangeCode(h, s, code)).json().error, 'invalid_grant', 'no verifier');
      const second = await obtainCode(h, s, { code_challenge: challenge, code_challenge_method: 'S256' });
      assert.equal((await exchangeCode(h, s, second, { code_verifier: verifier })).statusCode, 200);
    });

    test('the form submit is checked again: a challenge removed from the hidden fields is refused, no code', async () => {
      const page = await openLoginPage(h, authorizeQuery(s, { code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }));
      const res = await submitLogin(
        h,
        page,
        { email: s.email, password: s.password },
        { fields: { code_challenge: undefined, code_challenge_method: undefined } },
      );
      assertChallengeRequired(res, 303, h.issuer);
    });

    test('a client created with allowNoPkce signs in without PKCE', async () => {
      const open = await h.seed({ client: { allowNoPkce: true } });
      assert.equal((await h.store.clients.find(open.clientId))?.requirePkce, false);
      assert.equal((await exchangeCode(h, open, await obtainCode(h, open))).statusCode, 200);
    });
  });

  describe(`client create --allow-no-pkce [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let h: Harness;
    const run = kind === 'sqlite' ? runBin : runCliInProcess;
    const cli = (args: string[]) => run(args, { env: { DATABASE_URL: db.url } });

    before(async () => {
      db = await freshDatabase(kind);
      singleJson(await cli(['client', 'list', '--json']));
      h = await createHarness({ kind, databaseUrl: db.url });
    });
    after(async () => {
      await h.close({ drop: false });
      await db.drop();
    });

    test('without the flag the client requires PKCE; with it, an authorize request without a challenge gets the login page', async () => {
      const create = (...extra: string[]) =>
        cli(['client', 'create', '--name', 'PKCE', '--redirect-url', CALLBACK, ...extra, '--json']).then(singleJson);
      const strict = await create();
      const lax = await create('--allow-no-pkce');
      const listed = singleJson(await cli(['client', 'list', '--json'])).clients as Array<Record<string, unknown>>;
      assert.equal(listed.find((c) => c.client_id === strict.client_id)?.require_pkce, true);
      assert.equal(listed.find((c) => c.client_id === lax.client_id)?.require_pkce, false);

      const user = await h.services.accounts.createUser({ email: `pkce-${kind}-${Date.now()}@example.com`, password: PASSWORD });
      const seeded = (c: Record<string, unknown>): Seeded => ({
        clientId: c.client_id as string,
        clientSecret: c.client_secret as string,
        email: user.email,
        password: PASSWORD,
        userId: user.id,
      });
      assertChallengeRequired(await getAuthorize(h, authorizeQuery(seeded(strict))), 302, h.issuer);
      const code = await obtainCode(h, seeded(lax));
      assert.equal((await exchangeCode(h, seeded(lax), code)).statusCode, 200);
    });
  });

  describe(`a client from before schema 4 [${kind}]`, () => {
    test('keeps signing in without PKCE after the upgrade (require_pkce 0)', async () => {
      const db = await freshDatabase(kind);
      const secret = newSecret('client_secret');
      // What the previous release wrote: migrations 1-3 and a client.
      await databaseAtSchema(kind, db.url, 3, async (tx) => {
        await tx.run(
          `INSERT INTO clients (id, name, secret_hash, redirect_urls, refresh_tokens, token_type, refresh_grace, query_secrets, disabled, created_at)
           VALUES ('cl_old', 'old', ?, ?, 0, 'BearerToken', 0, 1, 0, ?)`,
          [hashSecret(secret), JSON.stringify([CALLBACK]), NOW],
        );
      });
      const h = await createHarness({ kind, databaseUrl: db.url });
      try {
        const user = await h.services.accounts.createUser({ email: `old-${kind}-${Date.now()}@example.com`, password: PASSWORD });
        const old: Seeded = { clientId: 'cl_old', clientSecret: secret, email: user.email, password: PASSWORD, userId: user.id };
        assert.equal((await h.store.clients.find('cl_old'))?.requirePkce, false);
        const res = await exchangeCode(h, old, await obtainCode(h, old));
        assert.equal(res.statusCode, 200, res.body);
      } finally {
        await h.close({ drop: false });
        await db.drop();
      }
    });
  });
}
