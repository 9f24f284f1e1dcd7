/**
 * Contract §11 and §4 together, with real parallel requests: the sessions one browser session
 * signs in count once against --max-sessions, whatever order their codes are exchanged in, while
 * two browsers racing for a user's last session still get exactly one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authorizeQuery, CALLBACK, openLoginPage, pkcePair, setCookies, submitLogin } from '../code-flow/flow.ts';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`browser sessions and the session limit, in parallel [${kind}]`, () => {
    let h: Harness;
    let a: Seeded;
    let bClient: { clientId: string; clientSecret: string };
    before(async () => {
      h = await createHarness({ kind });
      a = await h.seed({ maxSessions: 1, client: { scopes: ['openid email'], refreshTokens: true } });
      const b = await h.services.clients.createClient({ name: 'App B', redirectUrls: [CALLBACK], scopes: ['openid email'] });
      bClient = { clientId: b.client_id, clientSecret: b.client_secret };
    });
    after(() => h.close());

    const query = (clientId: string, challenge: string) =>
      authorizeQuery(
        { ...a, clientId },
        { redirect_uri: CALLBACK, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' },
      );

    /** A password sign-in in a new browser: its session cookie and a code for app A. */
    async function signIn(): Promise<{ cookie: string; code: string; verifier: string }> {
      const { verifier, challenge } = pkcePair();
      const page = await openLoginPage(h, query(a.clientId, challenge));
      const res = await submitLogin(h, page, { email: a.email, password: a.password });
      assert.equal(res.statusCode, 303, res.body);
      const cookie = setCookies(res)
        .find((c) => c.startsWith('sei_session='))!
        .split(';')[0]!;
      return { cookie, code: new URL(String(res.headers.location)).searchParams.get('code')!, verifier };
    }

    /** A code through the browser session, without a page. */
    async function silentCode(cookie: string, clientId: string): Promise<{ code: string; verifier: string }> {
      const { verifier, challenge } = pkcePair();
      const res = await h.app.inject({ method: 'GET', url: `/oauth/authorize?${query(clientId, challenge)}`, headers: { cookie } });
      assert.equal(res.statusCode, 302, res.body);
      return { code: new URL(String(res.headers.location)).searchParams.get('code')!, verifier };
    }

    const exchange = (client: { clientId: string; clientSecret: string }, code: string, verifier: string) =>
      h.post('/oauth/token', {
        grant_type: 'authorization_code',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        code,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      });

    test('one browser session signs in to two apps four times at once with --max-sessions 1; another browser is refused', async () => {
      const first = await signIn();
      const more = await Promise.all([
        silentCode(first.cookie, bClient.clientId),
        silentCode(first.cookie, a.clientId),
        silentCode(first.cookie, bClient.clientId),
      ]);
      const answers = await Promise.all([
        exchange(a, first.code, first.verifier),
        exchange(bClient, more[0]!.code, more[0]!.verifier),
        exchange(a, more[1]!.code, more[1]!.verifier),
        exchange(bClient, more[2]!.code, more[2]!.verifier),
      ]);
      assert.deepEqual(
        answers.map((r) => r.statusCode),
        [200, 200, 200, 200],
        answers.map((r) => r.body).join('\n'),
      );
      const sids = answers.map(
        (r) => JSON.parse(Buffer.from((r.json() as { id_token: string }).id_token.split('.')[1]!, 'base64url').toString()).sid,
      );
      assert.equal(new Set(sids).size, 1, 'one browser session: one sid');
      assert.equal(await h.store.sessions.countActive(a.userId, Date.now()), 1, 'four sessions, counted once');

      const other = await signIn();
      const refused = await exchange(a, other.code, other.verifier);
      assert.equal(refused.statusCode, 400);
      assert.equal(refused.json().error, 'concurrent_session_limit');
    });

    test('two browsers racing for the last session: exactly one wins; ending one session of a browser session ends them all', async () => {
      const before = await h.store.sessions.listActive(a.userId, Date.now());
      for (const session of before) await h.services.sessions.end(session.id);
      const [one, two] = await Promise.all([signIn(), signIn()]);
      const answers = await Promise.all([exchange(a, one!.code, one!.verifier), exchange(a, two!.code, two!.verifier)]);
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 400]);
      const winner = answers[0]!.statusCode === 200 ? one! : two!;
      const second = await silentCode(winner.cookie, bClient.clientId);
      assert.equal((await exchange(bClient, second.code, second.verifier)).statusCode, 200);
      const active = await h.store.sessions.listActive(a.userId, Date.now());
      assert.equal(active.length, 2);
      await h.services.sessions.end(active[0]!.id);
      assert.deepEqual(await h.store.sessions.listActive(a.userId, Date.now()), [], 'the other app’s session ended too');
      const { challenge } = pkcePair();
      const page = await h.app.inject({
        method: 'GET',
        url: `/oauth/authorize?${query(a.clientId, challenge)}`,
        headers: { cookie: winner.cookie },
      });
      assert.equal(page.statusCode, 200, 'the browser session ended: the login page again');
    });
  });
}
