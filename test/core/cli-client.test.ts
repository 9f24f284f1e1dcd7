/**
 * The admin CLI (contract §2, issue #2 item 4), clients and events: spawned as the real
 * `sei-auth` bin against a real database. A client secret is printed once and never listed;
 * rotating it stops the old one at once. Effects are checked through an in-process server on the
 * same database. (Organizations and users: cli.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashSecret } from '../../src/crypto/secrets.ts';
import { exchangeCode, obtainCode, pkcePair, refresh } from '../code-flow/flow.ts';
import { createHarness, freshDatabase, type Harness, introspect, passwordLogin, storeKinds } from '../support/harness.ts';
import { assertFails, assertOAuthError, runBin, runCliInProcess, singleJson, uniqueEmail } from './support.ts';

for (const kind of storeKinds()) {
  describe(`admin CLI: clients and events [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let h: Harness;
    // SQLite: the real bin, one process per command. PostgreSQL: the same command tree in process
    // (the spawned bin against PostgreSQL is checked once below), to keep the suite fast.
    const run = kind === 'sqlite' ? runBin : runCliInProcess;
    const cli = (args: string[], input?: string) => run(args, { env: { DATABASE_URL: db.url }, input });

    before(async () => {
      db = await freshDatabase(kind);
      singleJson(await cli(['client', 'list', '--json']));
      h = await createHarness({ kind, databaseUrl: db.url });
    });
    after(async () => {
      await h.close({ drop: false });
      await db.drop();
    });

    test('client create with every contract flag prints {"client_id","client_secret"}; client list shows the settings, never the secret', async () => {
      const created = singleJson(
        await cli([
          'client',
          'create',
          '--name',
          'Reports',
          '--redirect-url',
          'https://reports.example/callback',
          '--redirect-url',
          'https://reports.example/other',
          '--refresh-tokens',
          '--access-ttl',
          '120',
          '--refresh-ttl',
          '86400',
          '--token-type',
          'Bearer',
          '--json',
        ]),
      );
      assert.deepEqual(Object.keys(created).sort(), ['client_id', 'client_secret']);
      const clientId = created.client_id as string;
      const secret = created.client_secret as string;
      assert.match(clientId, /^cl_/);
      assert.match(secret, /^scs_[A-Za-z0-9_-]{43}$/);

      const listing = await cli(['client', 'list', '--json']);
      const clients = singleJson(listing).clients as Array<Record<string, unknown>>;
      const mine = clients.find((c) => c.client_id === clientId);
      assert.ok(mine, 'the client is listed');
      assert.equal(mine.name, 'Reports');
      assert.deepEqual(mine.redirect_urls, ['https://reports.example/callback', 'https://reports.example/other']);
      assert.equal(mine.refresh_tokens, true);
      assert.equal(mine.access_ttl, 120);
      assert.equal(mine.refresh_ttl, 86400);
      assert.equal(mine.token_type, 'Bearer');
      assert.equal(mine.disabled, false);
      assert.equal('client_secret' in mine || 'secret_hash' in mine || 'secretHash' in mine, false);
      assert.equal(listing.stdout.includes(secret.slice(4)), false, 'the secret is listed');
      assert.equal(listing.stdout.includes(hashSecret(secret)), false, 'the secret hash is listed');

      // The settings take effect at the token endpoint.
      const user = await h.services.accounts.createUser({ email: uniqueEmail('reports'), password: 'reports-password-1' });
      const res = await passwordLogin(h, {
        clientId,
        clientSecret: secret,
        email: user.email,
        password: 'reports-password-1',
        userId: user.id,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().token_type, 'Bearer');
      assert.equal(res.json().expires_in, 120);
      assert.equal(res.json().redirect_url, 'https://reports.example/callback');
    });

    test('client create defaults: BearerToken, no refresh tokens, server TTLs', async () => {
      const created = singleJson(await cli(['client', 'create', '--name', 'Defaults', '--redirect-url', 'https://d.example/cb', '--json']));
      const client = await h.store.clients.find(created.client_id as string);
      assert.equal(client?.tokenType, 'BearerToken');
      assert.equal(client?.refreshTokens, false);
      assert.equal(client?.accessTtl, null);
      assert.equal(client?.refreshTtl, null);
      assert.deepEqual(client?.redirectUrls, ['https://d.example/cb']);
    });

    test('client create refuses bad flag values with a non-zero exit', async () => {
      const results = await Promise.all([
        cli(['client', 'create', '--name', 'X', '--redirect-url', 'not a url', '--json']),
        cli(['client', 'create', '--name', 'X', '--redirect-url', 'https://x.example/cb#frag', '--json']),
        cli(['client', 'create', '--name', 'X', '--json']),
        cli(['client', 'create', '--name', 'X', '--redirect-url', 'https://x.example/cb', '--token-type', 'Mac', '--json']),
        cli(['client', 'create', '--name', 'X', '--redirect-url', 'https://x.example/cb', '--access-ttl', '-5', '--json']),
        cli(['client', 'create', '--name', 'X', '--redirect-url', 'https://x.example/cb', '--refresh-ttl', 'soon', '--json']),
      ]);
      for (const result of results) assertFails(result);
      assert.equal(
        (await h.store.clients.list()).some((c) => c.name === 'X'),
        false,
        'no client was created by a refused command',
      );
    });

    test('client rotate-secret: the old secret stops working at once, the new one works', async () => {
      const s = await h.seed();
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      const [rotatedResult, unknown] = await Promise.all([
        cli(['client', 'rotate-secret', '--client', s.clientId, '--json']),
        cli(['client', 'rotate-secret', '--client', 'cl_doesnotexist', '--json']),
      ]);
      const rotated = singleJson(rotatedResult);
      assert.deepEqual(Object.keys(rotated).sort(), ['client_id', 'client_secret']);
      assert.equal(rotated.client_id, s.clientId);
      assert.notEqual(rotated.client_secret, s.clientSecret);
      assertOAuthError(await passwordLogin(h, s), 400, 'invalid_client');
      assert.equal((await passwordLogin(h, { ...s, clientSecret: rotated.client_secret as string })).statusCode, 200);
      assertFails(unknown, /no client/);
    });

    test('client disable refuses the client; client enable restores it', async () => {
      const s = await h.seed();
      assert.deepEqual(singleJson(await cli(['client', 'disable', '--client', s.clientId, '--json'])), {
        client_id: s.clientId,
        disabled: true,
        ended_sessions: 0,
      });
      assertOAuthError(await passwordLogin(h, s), 400, 'invalid_client');
      assert.deepEqual(singleJson(await cli(['client', 'enable', '--client', s.clientId, '--json'])), {
        client_id: s.clientId,
        disabled: false,
        ended_sessions: 0,
      });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
    });

    test("client disable ends the client's sessions: its access and refresh tokens introspect inactive at once, with events", async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      const other = await h.services.accounts.createUser({ email: uniqueEmail('second'), password: 'second-password-1' });
      // A resource server of the tokens' audience introspects: the disabled client itself is refused.
      const rs = await h.resourceServer();
      const bystander = await h.seed();
      const pkce = pkcePair();
      const code = await obtainCode(h, s, { code_challenge: pkce.challenge, code_challenge_method: 'S256' });
      const codeTokens = (await exchangeCode(h, s, code, { code_verifier: pkce.verifier })).json();
      const passwordToken = (await passwordLogin(h, { ...s, email: other.email, password: 'second-password-1' })).json().access_token;
      const untouched = (await passwordLogin(h, bystander)).json().access_token;
      // The resource server reads access tokens; a refresh token only its own client may introspect (contract §7).
      const tokens = [codeTokens.access_token, passwordToken];
      for (const token of tokens) assert.equal((await introspect(h, rs, token)).json().active, true);
      assert.equal((await introspect(h, s, codeTokens.refresh_token)).json().active, true);

      const result = await cli(['client', 'disable', '--client', s.clientId]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /2 sessions ended/);
      for (const token of tokens) assert.deepEqual((await introspect(h, rs, token)).json(), { active: false });
      assert.notEqual(
        (await h.store.tokens.findRefresh(hashSecret(codeTokens.refresh_token)))?.revokedAt,
        null,
        'the refresh token is revoked',
      );
      assert.equal((await introspect(h, rs, untouched)).json().active, true, "another client's session lives on");

      const events = (await h.store.events.list({ limit: 100_000 })).filter((e) => e.clientId === s.clientId);
      assert.equal(events.filter((e) => e.type === 'client_disabled').length, 1);
      const ended = events.filter((e) => e.type === 'session_ended' && e.reason === 'client_disabled');
      assert.deepEqual(ended.map((e) => e.userId).sort(), [s.userId, other.id].sort(), 'one session_ended per session, naming its user');

      // Enabling the client again does not bring the ended sessions back.
      assert.equal(singleJson(await cli(['client', 'enable', '--client', s.clientId, '--json'])).ended_sessions, 0);
      assertOAuthError(await refresh(h, s, codeTokens.refresh_token), 400, 'invalid_grant');
      assert.equal((await introspect(h, rs, codeTokens.access_token)).json().active, false);
      assert.ok((await h.store.events.list({ limit: 100_000 })).some((e) => e.type === 'client_enabled' && e.clientId === s.clientId));
    });

    test('events --json lists security events without secrets', async () => {
      const s = await h.seed();
      await passwordLogin(h, s);
      const result = await cli(['events', '--user', s.email, '--json']);
      const events = singleJson(result).events as Array<Record<string, unknown>>;
      assert.ok(events.some((e) => e.type === 'login_succeeded'));
      assert.equal(result.stdout.includes(s.password), false);
      assert.equal(result.stdout.includes(s.clientSecret), false);
    });

    test('events --limit N lists the newest N events, newest first (--oldest-first reverses the page)', async () => {
      const s = await h.seed();
      // Seven events, later than anything else in this database, one second apart.
      const base = Date.now() + 86_400_000;
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const id = `evt_limit_${kind}_${i}`;
        ids.push(id);
        await h.store.events.create({
          id,
          at: base + i * 1000,
          type: 'login_failed',
          reason: 'bad_password',
          userId: s.userId,
          email: s.email,
          clientId: s.clientId,
          sessionId: null,
          ip: '192.0.2.1',
          requestId: null,
        });
      }
      const forUser = singleJson(await cli(['events', '--user', s.email, '--limit', '3', '--json'])).events as Array<{
        id: string;
        at: string;
      }>;
      assert.deepEqual(
        forUser.map((e) => e.id),
        ids.slice(4).reverse(),
      );
      assert.deepEqual(
        forUser.map((e) => e.at),
        [6, 5, 4].map((i) => new Date(base + i * 1000).toISOString()),
      );
      // Without a filter: the newest of the whole log.
      const all = singleJson(await cli(['events', '--limit', '2', '--json'])).events as Array<{ id: string }>;
      assert.deepEqual(
        all.map((e) => e.id),
        ids.slice(5).reverse(),
      );
      // Text mode, oldest first: the same page, one line per event.
      const text = await cli(['events', '--limit', '2', '--oldest-first']);
      assert.equal(text.code, 0, text.stderr);
      const lines = text.stdout.trim().split('\n');
      assert.deepEqual(
        lines.map((l) => l.split('\t')[0]),
        [5, 6].map((i) => new Date(base + i * 1000).toISOString()),
      );
    });

    if (kind !== 'sqlite') {
      test(`the spawned bin works against ${kind} too`, async () => {
        const env = { DATABASE_URL: db.url };
        const email = uniqueEmail('spawned');
        const [user, client] = await Promise.all([
          runBin(['user', 'create', '--email', email, '--password-stdin', '--json'], { env, input: 'spawned-password-1' }),
          runBin(['client', 'create', '--name', 'spawned', '--redirect-url', 'https://spawned.example/cb', '--json'], { env }),
        ]);
        const u = singleJson(user);
        const c = singleJson(client);
        const res = await passwordLogin(h, {
          clientId: c.client_id as string,
          clientSecret: c.client_secret as string,
          email,
          password: 'spawned-password-1',
          userId: u.id as string,
        });
        assert.equal(res.statusCode, 200, res.body);
        assertFails(
          await runBin(['user', 'create', '--email', email.toUpperCase(), '--password-stdin', '--json'], {
            env,
            input: 'spawned-password-2',
          }),
          /already exists/,
        );
      });
    }
  });
}
