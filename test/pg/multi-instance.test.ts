/**
 * Several server processes on one PostgreSQL database (issue #5): what one instance does is
 * seen by the other at once, and the races hold across instances.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import type { Services } from '../../src/composition-root.ts';
import { IdpService } from '../../src/idps/idp-service.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { freshDatabase, servicesFor } from '../support/harness.ts';
import { postForm, type ServerProcess, startServerProcess } from '../support/server-process.ts';
import { b64, responseWithSignedAssertion, testIdp } from '../support/test-idp.ts';

/**
 * One public ISSUER for both instances, as behind a load balancer: a SAML assertion is addressed
 * to the service (Audience, Recipient, Destination), not to one instance's own URL.
 */
const SHARED_ISSUER = 'http://sei-auth.test';

const skip = process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL suite skipped)';

describe('two instances on one PostgreSQL database', { skip }, () => {
  let db: { url: string; drop: () => Promise<void> };
  let store: Store;
  let services: Services;
  let a: ServerProcess;
  let b: ServerProcess;
  let client: { client_id: string; client_secret: string };

  before(async () => {
    db = await freshDatabase('postgres');
    store = await openStore({ databaseUrl: db.url, now: Date.now() });
    services = servicesFor(store, systemClock);
    client = await services.clients.createClient({ name: 'multi', redirectUrls: ['https://app.example/cb'], refreshTokens: true });
    // Start both at once against the migrated database; the advisory lock is exercised by the migration test.
    // LOGIN_MAX_FAILURES above the parallel logins below: more would be refused 429 before the
    // password check (attempts are reserved before it), and these tests are about sessions.
    const env = { DATABASE_URL: db.url, ISSUER: SHARED_ISSUER, LOGIN_MAX_FAILURES: '100' };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await store?.close();
    await db?.drop();
  });

  const auth = () => ({ client_id: client.client_id, client_secret: client.client_secret });

  test('a session ended through instance A is ended on instance B at once', async () => {
    await services.accounts.createUser({ email: 'ended@example.com', password: 'correct horse battery' });
    const login = await postForm(`${a.url}/oauth/token`, {
      grant_type: 'client_credentials',
      ...auth(),
      email: 'ended@example.com',
      password: 'correct horse battery',
    });
    assert.equal(login.status, 200);
    const token = login.json.access_token as string;
    assert.equal((await postForm(`${b.url}/oauth/introspect`, { ...auth(), token })).json.active, true);
    assert.equal((await postForm(`${a.url}/oauth/revoke`, { ...auth(), token })).status, 200);
    assert.deepEqual((await postForm(`${b.url}/oauth/introspect`, { ...auth(), token })).json, { active: false });
  });

  /** A session as the code flow starts it (with a refresh token), issued straight through the services. */
  const codeFlowTokens = async (userId: string, clientId: string) =>
    services.logins.issue(
      {
        user: (await store.users.find(userId))!,
        client: (await store.clients.find(clientId))!,
        grantType: 'authorization_code',
        endOtherSessions: false,
        redirectUrl: 'https://app.example/cb',
        issueRefreshToken: true,
        scope: '',
        audience: undefined,
      },
      {},
    );

  test('50 parallel refreshes of one token split across A and B give exactly one 200', async () => {
    const user = await services.accounts.createUser({ email: 'refresh@example.com', password: 'correct horse battery' });
    const issued = await codeFlowTokens(user.id, client.client_id);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        postForm(`${(i % 2 ? a : b).url}/oauth/token`, { grant_type: 'refresh_token', ...auth(), refresh_token: issued.refreshToken! }),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.status === 400 && r.json.error === 'invalid_grant'));
  });

  test('with a grace window, 50 parallel refreshes of one token split across A and B all get the same new tokens', async () => {
    const graceful = await services.clients.createClient({
      name: 'graceful',
      redirectUrls: ['https://app.example/cb'],
      refreshTokens: true,
      refreshGrace: 60,
    });
    const user = await services.accounts.createUser({ email: 'grace@example.com', password: 'correct horse battery' });
    const issued = await codeFlowTokens(user.id, graceful.client_id);
    const form = { grant_type: 'refresh_token', ...graceful, refresh_token: issued.refreshToken! };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => postForm(`${(i % 2 ? a : b).url}/oauth/token`, form)));
    const statuses = results.map((r) => r.status);
    assert.ok(
      statuses.every((st) => st === 200),
      `statuses: ${statuses.join(',')}`,
    );
    assert.equal(new Set(results.map((r) => r.json.access_token)).size, 1, 'one access token');
    assert.equal(new Set(results.map((r) => r.json.refresh_token)).size, 1, 'one refresh token');
    const introspected = await postForm(`${b.url}/oauth/introspect`, { ...graceful, token: String(results[0]!.json.refresh_token) });
    assert.equal(introspected.json.active, true, 'the one branch is alive');
  });

  test('parallel logins of a user limited to one session, split across A and B, give exactly one success', async () => {
    const user = await services.accounts.createUser({ email: 'limited@example.com', password: 'correct horse battery', maxSessions: 1 });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        postForm(`${(i % 2 ? a : b).url}/oauth/token`, {
          grant_type: 'client_credentials',
          ...auth(),
          email: 'limited@example.com',
          password: 'correct horse battery',
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.json.error === 'concurrent_session_limit'));
    assert.equal(await store.sessions.countActive(user.id, Date.now()), 1);
  });

  test('a SAML assertion accepted by instance A is refused as a replay on instance B', async () => {
    const email = 'saml-sso@example.com';
    await services.accounts.createUser({ email, password: 'correct horse battery' });
    await new IdpService({ store, clock: systemClock }).create({ entityId: testIdp().entityId, certPem: testIdp().certPem });
    const tokenEndpoint = `${SHARED_ISSUER}/oauth/token`;
    const signed = () =>
      b64(responseWithSignedAssertion({ email, audience: SHARED_ISSUER, recipient: tokenEndpoint, destination: tokenEndpoint }));
    const login = (instance: ServerProcess, encoded: string) =>
      postForm(`${instance.url}/oauth/token`, {
        grant_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
        ...auth(),
        SAMLResponse: encoded,
      });

    const encoded = signed();
    const onA = await login(a, encoded);
    assert.equal(onA.status, 200, JSON.stringify(onA.json));
    assert.equal(onA.json.email, email);

    const since = Date.now();
    const onB = await login(b, encoded);
    assert.equal(onB.status, 400);
    assert.deepEqual(onB.json, { error: 'invalid_grant', error_description: 'The SAML assertion was rejected.' });
    const rejected = (await store.events.list({ since: since - 1000 })).filter((e) => e.type === 'saml_rejected' && e.email === email);
    assert.deepEqual(
      rejected.map((e) => e.reason),
      ['replayed'],
      'B refused it as a replay (not for audience or signature)',
    );

    // B itself accepts a fresh assertion for the same user: the refusal above was the replay cache alone.
    const fresh = await login(b, signed());
    assert.equal(fresh.status, 200, JSON.stringify(fresh.json));
    // And the token A issued stays valid on both instances.
    const token = onA.json.access_token as string;
    assert.equal((await postForm(`${b.url}/oauth/introspect`, { ...auth(), token })).json.active, true);

    // One assertion sent to A and B at once, ten times: exactly one token across both instances.
    const raced = signed();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => login(i % 2 ? a : b, raced)));
    assert.equal(results.filter((r) => r.status === 200).length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.status === 400 && r.json.error === 'invalid_grant'));
  });
});
