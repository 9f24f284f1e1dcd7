/**
 * The admin CLI (contract §2, issue #2 item 4), organizations and users: spawned as the real
 * `sei-auth` bin against a real database. Every command prints exactly one JSON object with
 * --json, errors go to stderr with a non-zero exit, passwords only come from stdin. Effects are
 * checked through an in-process server on the same database. (Clients: cli-client.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { LATEST_SCHEMA_VERSION } from '../../src/store/migrations.ts';
import { SqliteDriver } from '../../src/store/sqlite-driver.ts';
import { createHarness, freshDatabase, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { assertFails, assertOAuthError, runBin, runCliInProcess, singleJson, uniqueEmail } from './support.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

for (const kind of storeKinds()) {
  describe(`admin CLI: organizations and users [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let h: Harness;
    // SQLite: the real bin, one process per command. PostgreSQL: the same command tree in process
    // (the spawned bin against PostgreSQL is checked once below), to keep the suite fast.
    const run = kind === 'sqlite' ? runBin : runCliInProcess;
    const cli = (args: string[], input?: string) => run(args, { env: { DATABASE_URL: db.url }, input });

    before(async () => {
      db = await freshDatabase(kind);
      // The first command migrates the fresh database; the in-process server then shares it.
      singleJson(await cli(['org', 'list', '--json']));
      h = await createHarness({ kind, databaseUrl: db.url });
    });
    after(async () => {
      await h.close({ drop: false });
      await db.drop();
    });

    test('--help and --version exit 0 and describe the program', async () => {
      const [help, version, userHelp] = await Promise.all([cli(['--help']), cli(['--version']), cli(['user', 'create', '--help'])]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Usage: sei-auth/);
      for (const command of ['serve', 'org', 'user', 'client']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
      assert.equal(version.code, 0);
      assert.equal(version.stdout.trim(), VERSION);
      assert.equal(userHelp.code, 0);
      assert.match(userHelp.stdout, /--password-stdin/);
      assert.doesNotMatch(userHelp.stdout, /--password\s/);
    });

    test('org create --json prints {"id"} and the organization exists with its limit', async () => {
      const created = singleJson(await cli(['org', 'create', '--name', 'Acme', '--max-sessions', '2', '--json']));
      assert.deepEqual(Object.keys(created), ['id']);
      assert.match(created.id as string, /^org_/);
      assert.equal((await h.store.orgs.find(created.id as string))?.maxSessions, 2);
      const orgs = singleJson(await cli(['org', 'list', '--json'])).orgs as Array<Record<string, unknown>>;
      assert.ok(orgs.some((o) => o.id === created.id && o.name === 'Acme' && o.max_sessions === 2));
      assert.ok(
        orgs.some((o) => o.id === 'org_default'),
        'there is always a default organization',
      );
    });

    test('org create without --json prints human text, not JSON', async () => {
      const result = await cli(['org', 'create', '--name', 'Plain']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /org_/);
      assert.throws(() => JSON.parse(result.stdout));
    });

    test('user create reads the password from stdin, prints {"id","email"}, and the user can log in', async () => {
      const email = uniqueEmail('Ada');
      const result = await cli(['user', 'create', '--email', email, '--password-stdin', '--json'], 'stdin-password-42\n');
      const created = singleJson(result);
      assert.deepEqual(Object.keys(created).sort(), ['email', 'id']);
      assert.equal(created.email, email);
      assert.equal(result.stdout.includes('stdin-password-42'), false);
      const client = await h.services.clients.createClient({ name: 'x', redirectUrls: ['https://x.example/cb'] });
      const s: Seeded = {
        clientId: client.client_id,
        clientSecret: client.client_secret,
        email,
        password: 'stdin-password-42',
        userId: created.id as string,
      };
      assert.equal((await passwordLogin(h, s)).statusCode, 200, 'the trailing newline is not part of the password');
    });

    test('user create with --org and --max-sessions applies both', async () => {
      const org = singleJson(await cli(['org', 'create', '--name', 'Limits', '--max-sessions', '5', '--json']));
      const email = uniqueEmail('limited');
      const created = singleJson(
        await cli(
          ['user', 'create', '--email', email, '--org', org.id as string, '--max-sessions', '1', '--password-stdin', '--json'],
          'limited-password-1',
        ),
      );
      const user = await h.store.users.find(created.id as string);
      assert.equal(user?.orgId, org.id);
      assert.equal(user?.maxSessions, 1);
      const client = await h.services.clients.createClient({ name: 'x', redirectUrls: ['https://x.example/cb'] });
      const s: Seeded = {
        clientId: client.client_id,
        clientSecret: client.client_secret,
        email,
        password: 'limited-password-1',
        userId: user!.id,
      };
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
      assertFails(
        await cli(
          ['user', 'create', '--email', uniqueEmail('orphan'), '--org', 'org_nope', '--password-stdin', '--json'],
          'orphan-password-1',
        ),
        /organization/,
      );
    });

    test('a duplicate email differing only in case is refused: non-zero exit, message on stderr', async () => {
      const email = uniqueEmail('Dup');
      singleJson(await cli(['user', 'create', '--email', email, '--password-stdin', '--json'], 'dup-password-01'));
      assertFails(
        await cli(['user', 'create', '--email', email.toUpperCase(), '--password-stdin', '--json'], 'dup-password-02'),
        /already exists/,
      );
      assert.equal((await h.store.users.list()).filter((u) => u.email.toLowerCase() === email.toLowerCase()).length, 1);
    });

    test('there is no --password flag: a password on argv is refused and no user is created', async () => {
      const email = uniqueEmail('argv');
      const [created, setPw] = await Promise.all([
        cli(['user', 'create', '--email', email, '--password', 'argv-password-1', '--json']),
        cli(['user', 'set-password', '--email', email, '--password', 'argv-password-1']),
      ]);
      assertFails(created, /unknown option '--password'/);
      assertFails(setPw);
      assert.equal(await h.store.users.findByEmail(email), undefined);
    });

    test('user create rejects an invalid email, a short password, a missing --email and a bad --max-sessions', async () => {
      const results = await Promise.all([
        cli(['user', 'create', '--email', 'not-an-email', '--password-stdin', '--json'], 'long-enough-pw'),
        cli(['user', 'create', '--email', uniqueEmail('short'), '--password-stdin', '--json'], 'short'),
        cli(['user', 'create', '--password-stdin', '--json'], 'long-enough-pw'),
        cli(['user', 'create', '--email', uniqueEmail('bad'), '--max-sessions', 'lots', '--password-stdin', '--json'], 'long-enough-pw'),
      ]);
      assertFails(results[0]!, /email/);
      assertFails(results[1]!, /password/);
      assertFails(results[2]!, /--email/);
      assertFails(results[3]!, /--max-sessions/);
    });

    test('org commands refuse bad values', async () => {
      const results = await Promise.all([
        cli(['org', 'create', '--name', 'X', '--max-sessions', 'abc', '--json']),
        cli(['org', 'create', '--name', 'X', '--max-sessions', '0', '--json']),
        cli(['org', 'create', '--json']),
        cli(['frobnicate']),
      ]);
      for (const result of results) assertFails(result);
      assert.equal(
        (await h.store.orgs.list()).some((o) => o.name === 'X'),
        false,
        'no organization was created by a refused command',
      );
    });

    test('user list --json lists users without their password hashes', async () => {
      const s = await h.seed({ maxSessions: 3 });
      const listing = await cli(['user', 'list', '--json']);
      const users = singleJson(listing).users as Array<Record<string, unknown>>;
      assert.deepEqual(
        users.find((u) => u.id === s.userId),
        { id: s.userId, email: s.email, org: 'org_default', max_sessions: 3, disabled: false, has_password: true },
      );
      assert.doesNotMatch(listing.stdout, /argon2/);
    });

    test('user sessions lists active sessions and user end-session ends one (its token dies)', async () => {
      const s = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token as string;
      const sid = (await introspect(h, s, token)).json().sid as string;
      const sessions = singleJson(await cli(['user', 'sessions', '--email', s.email, '--json'])).sessions as Array<Record<string, unknown>>;
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0]!.id, sid);
      assert.equal(sessions[0]!.client_id, s.clientId);
      assert.deepEqual(singleJson(await cli(['user', 'end-session', '--session', sid, '--json'])), { id: sid, ended: true });
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
      const [after, unknown] = await Promise.all([
        cli(['user', 'sessions', '--email', s.email, '--json']),
        cli(['user', 'end-session', '--session', 'ses_doesnotexist', '--json']),
      ]);
      assert.deepEqual(singleJson(after).sessions, []);
      assertFails(unknown, /no session/);
    });

    test('user set-password replaces the password (read from stdin)', async () => {
      const s = await h.seed();
      assert.deepEqual(
        singleJson(await cli(['user', 'set-password', '--email', s.email, '--password-stdin', '--json'], 'brand-new-password-7\n')),
        { email: s.email, ended_sessions: 0 },
      );
      assertOAuthError(await passwordLogin(h, s), 400, 'invalid_grant');
      assert.equal((await passwordLogin(h, { ...s, password: 'brand-new-password-7' })).statusCode, 200);
    });

    test("user set-password ends the user's sessions: its tokens introspect inactive at once, with events", async () => {
      const s = await h.seed();
      const tokens = [];
      for (let i = 0; i < 2; i++) tokens.push((await passwordLogin(h, s)).json().access_token as string);
      for (const token of tokens) assert.equal((await introspect(h, s, token)).json().active, true);

      const result = await cli(['user', 'set-password', '--email', s.email, '--password-stdin'], 'brand-new-password-8');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /2 sessions ended/);
      for (const token of tokens) assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
      assert.equal((await passwordLogin(h, { ...s, password: 'brand-new-password-8' })).statusCode, 200, 'the new password works');

      const events = await h.store.events.list({ userId: s.userId });
      const changed = events.filter((e) => e.type === 'password_changed');
      assert.equal(changed.length, 1);
      assert.equal(changed[0]!.reason, null);
      assert.equal(events.filter((e) => e.type === 'session_ended' && e.reason === 'password_changed').length, 2);
      assert.equal(JSON.stringify(events).includes('brand-new-password-8'), false, 'the password is in no event');
    });

    test('user set-password --keep-sessions changes the password and keeps the sessions', async () => {
      const s = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token as string;
      assert.deepEqual(
        singleJson(
          await cli(['user', 'set-password', '--email', s.email, '--password-stdin', '--keep-sessions', '--json'], 'kept-password-9'),
        ),
        { email: s.email, ended_sessions: 0 },
      );
      assert.equal((await introspect(h, s, token)).json().active, true, 'the session lives on');
      assertOAuthError(await passwordLogin(h, s), 400, 'invalid_grant');
      const events = await h.store.events.list({ userId: s.userId });
      assert.deepEqual(
        events.filter((e) => e.type === 'password_changed').map((e) => e.reason),
        ['sessions_kept'],
      );
      assert.equal(events.filter((e) => e.type === 'session_ended').length, 0);
    });

    test('user set-max-sessions sets and clears the limit', async () => {
      const s = await h.seed();
      assert.deepEqual(singleJson(await cli(['user', 'set-max-sessions', '--email', s.email, '--max-sessions', '1', '--json'])), {
        email: s.email,
        max_sessions: 1,
      });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
      const [cleared, neither] = await Promise.all([
        cli(['user', 'set-max-sessions', '--email', s.email, '--unlimited', '--json']),
        cli(['user', 'set-max-sessions', '--email', s.email, '--json']),
      ]);
      assert.deepEqual(singleJson(cleared), { email: s.email, max_sessions: null });
      assertFails(neither);
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
    });

    test('user disable ends the sessions and refuses logins; user enable allows them again', async () => {
      const s = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token as string;
      assert.deepEqual(singleJson(await cli(['user', 'disable', '--email', s.email, '--json'])), {
        email: s.email,
        disabled: true,
        ended_sessions: 1,
      });
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
      assertOAuthError(await passwordLogin(h, s), 400, 'invalid_grant');
      const [enabled, unknown] = await Promise.all([
        cli(['user', 'enable', '--email', s.email, '--json']),
        cli(['user', 'disable', '--email', uniqueEmail('nobody'), '--json']),
      ]);
      assert.equal(singleJson(enabled).disabled, false);
      assertFails(unknown, /no user/);
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
    });
  });
}

describe('admin CLI and the database [sqlite]', () => {
  test('a command against a database written by a newer version is refused with a clear message', async () => {
    const db = await freshDatabase('sqlite');
    try {
      const env = { DATABASE_URL: db.url };
      singleJson(await runBin(['org', 'list', '--json'], { env }));
      const driver = new SqliteDriver(db.url.slice('sqlite:'.length));
      await driver.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        LATEST_SCHEMA_VERSION + 1,
        'from the future',
        Date.now(),
      ]);
      await driver.close();
      const result = await runBin(['org', 'list', '--json'], { env });
      assertFails(result, /newer/);
      assert.equal(result.stderr.trim().split('\n').length, 1);
    } finally {
      await db.drop();
    }
  });

  test('a bad DATABASE_URL is refused by every command with a message naming it', async () => {
    assertFails(await runBin(['org', 'list', '--json'], { env: { DATABASE_URL: 'mysql://x' } }), /DATABASE_URL/);
  });
});
