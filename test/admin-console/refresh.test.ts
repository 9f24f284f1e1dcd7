/**
 * The console session outlives its 10-minute access tokens: the BFF refreshes them server-side
 * (the refresh grant, in-process), and the session ends with its refresh token, or at once when
 * the sei-auth session behind it is ended elsewhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { hashSecret } from '../../src/crypto/secrets.ts';
import { CONSOLE_CLIENT_ID } from '../../src/http/console/console-client.ts';
import { setCookies } from '../code-flow/flow.ts';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { CONSOLE_HEADER, consoleSignIn, cookieOf } from './console-sign-in.ts';

for (const kind of storeKinds()) {
  describe(`admin console session lifetime [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    const clock = new ManualClock(Date.now());
    before(async () => {
      h = await createHarness({ kind, clock });
      await h.app.ready();
      s = await h.seed();
      await h.store.users.update(s.userId, { role: 'admin' });
    });
    after(() => h.close());

    const users = (cookie: string) =>
      h.app.inject({ method: 'GET', url: '/admin/api/users?limit=1', headers: { cookie, ...CONSOLE_HEADER } });

    test('an expired access token is refreshed server-side; the cookie stays the same', async () => {
      const { cookie } = await consoleSignIn(h, s);
      const idHash = hashSecret(cookie.split('=')[1]!);
      const before = (await h.store.consoleSessions.find(idHash))!.sealed;
      clock.advance(11 * 60_000);
      const res = await users(cookie);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(cookieOf(setCookies(res), /^sei_console=/), undefined, 'no new cookie');
      assert.notEqual((await h.store.consoleSessions.find(idHash))!.sealed, before, 'new tokens sealed in the row');
    });

    test('after the refresh token expires, the console asks for a sign-in again', async () => {
      const { cookie } = await consoleSignIn(h, s);
      clock.advance(8 * 3600_000 + 1000);
      const res = await users(cookie);
      assert.equal(res.statusCode, 401);
      assert.equal((await h.app.inject({ method: 'GET', url: '/admin', headers: { cookie } })).statusCode, 302);
    });

    test('ending the user’s sessions (as another admin would) signs the console out on its next call', async () => {
      const { cookie } = await consoleSignIn(h, s);
      assert.equal((await users(cookie)).statusCode, 200);
      const ended = (await h.services.sessions.listActive(s.userId)).filter((x) => x.clientId === CONSOLE_CLIENT_ID);
      assert.ok(ended.length > 0);
      const admin = await h.seed();
      await h.store.users.update(admin.userId, { role: 'admin' });
      const other = await consoleSignIn(h, admin);
      const res = await h.app.inject({
        method: 'DELETE',
        url: `/admin/api/users/${s.userId}/sessions`,
        headers: { cookie: other.cookie, ...CONSOLE_HEADER },
      });
      assert.ok(res.statusCode < 300, res.body);
      const after = await users(cookie);
      assert.equal(after.statusCode, 401);
      assert.match(cookieOf(setCookies(after), /^sei_console=/) ?? '', /Max-Age=0/);
    });
  });
}
