/** Contract §9: the admin API against the real server, on every store kind. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { basicAuth } from '../core/support.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { testIdp } from '../support/test-idp.ts';
import { type AdminFixture, adminFixture, api, PASSWORD, problem, serviceToken, uniqueEmail, userWithToken } from './support.ts';

for (const kind of process.env.TEST_DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
  describe(`admin API [${kind}]`, () => {
    let h: Harness;
    let f: AdminFixture;
    const clock = new ManualClock(Date.now());
    before(async () => {
      h = await createHarness({ kind, clock });
      f = await adminFixture(h);
    });
    after(() => h.close());

    test('401 without or with a bad token (with WWW-Authenticate); 403 without the scope admin or without a role', async () => {
      const none = await api(h, undefined, 'GET', '/users');
      problem(none, 401);
      assert.match(String(none.headers['www-authenticate']), /^Bearer/);
      const bad = await api(h, 'sat_not_a_token', 'GET', '/users');
      problem(bad, 401);
      assert.match(String(bad.headers['www-authenticate']), /invalid_token/);
      const noScope = await userWithToken(h, f.appClient, { role: 'admin', scope: 'openid' });
      const r = await api(h, noScope.token, 'GET', '/users');
      problem(r, 403);
      assert.match(String(r.headers['www-authenticate']), /insufficient_scope/);
      const plain = await userWithToken(h, f.appClient, {});
      problem(await api(h, plain.token, 'GET', '/users'), 403);
      const svcNoAdmin = await serviceToken(h, 'jobs:run');
      problem(await api(h, svcNoAdmin.token, 'GET', '/users'), 403);
    });

    test('orgs: create 201, get with ETag, PATCH with If-Match, 412 on a stale one, 400 on unknown fields, delete refused with users unless cascade', async () => {
      const created = await api(h, f.adminToken, 'POST', '/orgs', { name: 'Acme', max_sessions: 2 });
      assert.equal(created.statusCode, 201, created.body);
      const org = created.json();
      assert.equal(org.max_sessions, 2);
      const got = await api(h, f.adminToken, 'GET', `/orgs/${org.id}`);
      const etag = String(got.headers.etag);
      assert.equal(etag, '"v1"');
      problem(await api(h, f.adminToken, 'PATCH', `/orgs/${org.id}`, { nme: 'typo' }), 400);
      problem(await api(h, f.adminToken, 'POST', '/orgs', { name: 'x', extra: 1 }), 400);
      problem(await api(h, f.adminToken, 'POST', '/orgs', { name: 42 }), 400);
      const patched = await api(h, f.adminToken, 'PATCH', `/orgs/${org.id}`, { name: 'Acme Ltd' }, { 'if-match': etag });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().name, 'Acme Ltd');
      problem(await api(h, f.adminToken, 'PATCH', `/orgs/${org.id}`, { name: 'Stale' }, { 'if-match': etag }), 412);
      await api(h, f.adminToken, 'POST', '/users', { email: uniqueEmail(), org: org.id });
      problem(await api(h, f.adminToken, 'DELETE', `/orgs/${org.id}`), 409);
      assert.equal((await api(h, f.adminToken, 'DELETE', `/orgs/${org.id}?cascade=true`)).statusCode, 204);
      problem(await api(h, f.adminToken, 'GET', `/orgs/${org.id}`), 404);
    });

    test('concurrent PATCHes of one row with the same If-Match: exactly one wins', async () => {
      const org = (await api(h, f.adminToken, 'POST', '/orgs', { name: 'Race' })).json();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => api(h, f.adminToken, 'PATCH', `/orgs/${org.id}`, { name: `n${i}` }, { 'if-match': '"v1"' })),
      );
      assert.equal(results.filter((r) => r.statusCode === 200).length, 1);
      assert.equal(results.filter((r) => r.statusCode === 412).length, 7);
    });

    test('users: pagination newest first, stable under inserts between pages; filters email and org', async () => {
      const org = (await api(h, f.adminToken, 'POST', '/orgs', { name: 'Paged' })).json();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        clock.advance(1000);
        ids.push((await api(h, f.adminToken, 'POST', '/users', { email: uniqueEmail('p'), org: org.id })).json().id);
      }
      const first = (await api(h, f.adminToken, 'GET', `/users?org=${org.id}&limit=2`)).json();
      assert.deepEqual(
        first.items.map((u: { id: string }) => u.id),
        [ids[4], ids[3]],
      );
      clock.advance(1000);
      await api(h, f.adminToken, 'POST', '/users', { email: uniqueEmail('late'), org: org.id });
      const second = (await api(h, f.adminToken, 'GET', `/users?org=${org.id}&limit=2&cursor=${first.next_cursor}`)).json();
      assert.deepEqual(
        second.items.map((u: { id: string }) => u.id),
        [ids[2], ids[1]],
      );
      const third = (await api(h, f.adminToken, 'GET', `/users?org=${org.id}&limit=2&cursor=${second.next_cursor}`)).json();
      assert.deepEqual(
        third.items.map((u: { id: string }) => u.id),
        [ids[0]],
      );
      assert.equal(third.next_cursor, null);
      const email = (await api(h, f.adminToken, 'GET', `/users/${ids[0]}`)).json().email;
      assert.deepEqual(
        (await api(h, f.adminToken, 'GET', `/users?email=${encodeURIComponent(email)}`)).json().items.map((u: { id: string }) => u.id),
        [ids[0]],
      );
      problem(await api(h, f.adminToken, 'GET', '/users?cursor=garbage'), 400);
      problem(await api(h, f.adminToken, 'GET', '/users?limit=0'), 400);
      problem(await api(h, f.adminToken, 'GET', '/users?colour=red'), 400);
    });

    test('org-admin: only its organization; anything outside is 404; clients are 403; cannot grant admin', async () => {
      const mine = (await api(h, f.adminToken, 'POST', '/orgs', { name: 'Mine' })).json();
      const theirs = (await api(h, f.adminToken, 'POST', '/orgs', { name: 'Theirs' })).json();
      const oa = await userWithToken(h, f.appClient, { role: 'org-admin', orgId: mine.id });
      const other = (await api(h, f.adminToken, 'POST', '/users', { email: uniqueEmail('other'), org: theirs.id })).json();
      problem(await api(h, oa.token, 'GET', `/users/${other.id}`), 404);
      problem(await api(h, oa.token, 'PATCH', `/users/${other.id}`, { disabled: true }), 404);
      problem(await api(h, oa.token, 'DELETE', `/users/${other.id}`), 404);
      problem(await api(h, oa.token, 'POST', '/users', { email: uniqueEmail(), org: theirs.id }), 404);
      problem(await api(h, oa.token, 'GET', '/clients'), 403);
      const created = await api(h, oa.token, 'POST', '/users', { email: uniqueEmail('mine'), password: PASSWORD });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().org, mine.id);
      problem(await api(h, oa.token, 'PATCH', `/users/${created.json().id}`, { role: 'admin' }), 403);
      const list = (await api(h, oa.token, 'GET', '/users?limit=200')).json();
      assert.ok(list.items.every((u: { org: string }) => u.org === mine.id));
      const events = (await api(h, oa.token, 'GET', '/events?limit=200')).json();
      assert.ok(events.items.length > 0);
      assert.ok(events.items.every((e: { org: string | null; user_id: string | null }) => e.org === mine.id || e.user_id !== null));
    });

    test('a role removed or a session ended takes effect on the next request', async () => {
      const a = await userWithToken(h, f.appClient, { role: 'admin' });
      assert.equal((await api(h, a.token, 'GET', '/users?limit=1')).statusCode, 200);
      const patched = await api(h, f.adminToken, 'PATCH', `/users/${a.userId}`, { role: null });
      assert.equal(patched.statusCode, 200, patched.body);
      problem(await api(h, a.token, 'GET', '/users?limit=1'), 403);
      const b = await userWithToken(h, f.appClient, { role: 'admin' });
      assert.equal((await api(h, f.adminToken, 'DELETE', `/users/${b.userId}/sessions`)).statusCode, 200);
      problem(await api(h, b.token, 'GET', '/users?limit=1'), 401);
    });

    test('the last full admin can be neither demoted nor erased', async () => {
      const users = (await api(h, f.adminToken, 'GET', '/users?limit=200')).json().items as Array<{ id: string; role: string | null }>;
      const admins = users.filter((u) => u.role === 'admin' && u.id !== f.adminUserId);
      for (const u of admins) await api(h, f.adminToken, 'PATCH', `/users/${u.id}`, { role: null });
      problem(await api(h, f.adminToken, 'PATCH', `/users/${f.adminUserId}`, { role: 'org-admin' }), 409);
      problem(await api(h, f.adminToken, 'DELETE', `/users/${f.adminUserId}`), 409);
      problem(await api(h, f.adminToken, 'PATCH', `/users/${f.adminUserId}`, { disabled: true }), 409);
    });

    test('erasing a user ends its sessions, kills its tokens, removes the row; its events keep a pseudonymous id', async () => {
      const victim = await userWithToken(h, f.appClient, {});
      const res = await api(h, f.adminToken, 'DELETE', `/users/${victim.userId}`);
      assert.equal(res.statusCode, 204, res.body);
      problem(await api(h, f.adminToken, 'GET', `/users/${victim.userId}`), 404);
      assert.equal(await h.store.tokens.findAccess((await import('../../src/crypto/secrets.ts')).storedKey(victim.token)), undefined);
      const all = await h.store.events.list({ limit: 100_000 });
      assert.equal(all.filter((e) => e.userId === victim.userId || e.email === victim.email).length, 0);
      const deleted = all.find((e) => e.type === 'user_deleted' && e.actor === `user:${f.adminUserId}`);
      assert.ok(deleted?.userId?.startsWith('erased_'));
    });

    test('clients: create shows the secret once, PATCH every CLI field, rotation with grace keeps the old secret until it ends', async () => {
      const created = await api(h, f.adminToken, 'POST', '/clients', { name: 'Svc', kind: 'service', scope: 'jobs:run' });
      assert.equal(created.statusCode, 201, created.body);
      const c = created.json();
      assert.ok(c.client_secret.length > 20);
      const got = (await api(h, f.adminToken, 'GET', `/clients/${c.client_id}`)).json();
      assert.equal(got.client_secret, undefined);
      assert.equal(JSON.stringify(got).includes('secret_hash'), false);
      const patch = {
        name: 'Svc 2',
        access_ttl: 600,
        refresh_ttl: null,
        token_type: 'BearerToken',
        scope: 'jobs:run reports:read',
        access_token_format: 'opaque',
        refresh_grace: 10,
      };
      const patched = await api(h, f.adminToken, 'PATCH', `/clients/${c.client_id}`, patch);
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().scope, 'jobs:run reports:read');
      assert.equal(patched.json().access_ttl, 600);
      problem(await api(h, f.adminToken, 'PATCH', `/clients/${c.client_id}`, { token_type: 'Nope' }), 400);
      const token = (secret: string) =>
        h.post('/oauth/token', { grant_type: 'client_credentials' }, { headers: { authorization: basicAuth(c.client_id, secret) } });
      const rotated = await api(h, f.adminToken, 'POST', `/clients/${c.client_id}/secret`, { grace_seconds: 60 });
      assert.equal(rotated.statusCode, 200, rotated.body);
      const fresh = rotated.json().client_secret;
      assert.equal((await token(c.client_secret)).statusCode, 200, 'the old secret works during the grace');
      assert.equal((await token(fresh)).statusCode, 200);
      clock.advance(61_000);
      assert.equal((await token(c.client_secret)).statusCode, 401);
      assert.equal((await token(fresh)).statusCode, 200);
      problem(await api(h, f.adminToken, 'POST', `/clients/${c.client_id}/secret`, { grace: 1 }), 400);
      assert.equal((await api(h, f.adminToken, 'DELETE', `/clients/${c.client_id}`)).statusCode, 204);
      problem(await api(h, f.adminToken, 'GET', `/clients/${c.client_id}`), 404);
    });

    test('clients: a public client (contract §11) has no secret, keeps its web origins and logout URLs, and has no secret to rotate', async () => {
      const created = await api(h, f.adminToken, 'POST', '/clients', {
        name: 'SPA',
        public: true,
        redirect_urls: ['https://spa.example/cb'],
        scope: 'openid email',
        web_origins: ['https://spa.example'],
        post_logout_redirect_urls: ['https://spa.example/'],
      });
      assert.equal(created.statusCode, 201, created.body);
      const c = created.json();
      assert.equal(c.client_secret, undefined);
      assert.equal(c.public, true);
      assert.equal(c.require_pkce, true);
      assert.deepEqual(c.web_origins, ['https://spa.example']);
      assert.deepEqual(c.post_logout_redirect_urls, ['https://spa.example/']);
      problem(await api(h, f.adminToken, 'POST', `/clients/${c.client_id}/secret`, {}), 400);
      problem(await api(h, f.adminToken, 'PATCH', `/clients/${c.client_id}`, { web_origins: ['https://spa.example/path'] }), 400);
      problem(await api(h, f.adminToken, 'PATCH', `/clients/${c.client_id}`, { require_pkce: false }), 400);
      const patched = await api(h, f.adminToken, 'PATCH', `/clients/${c.client_id}`, {
        web_origins: ['https://spa.example', 'http://localhost:5173'],
      });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual(patched.json().web_origins, ['https://spa.example', 'http://localhost:5173']);
    });

    test('a service client with the scope admin is a full admin; its changes name it as the actor', async () => {
      const svc = await serviceToken(h, 'admin');
      const created = await api(h, svc.token, 'POST', '/users', { email: uniqueEmail('auto'), role: 'org-admin' });
      assert.equal(created.statusCode, 201, created.body);
      const events = (await api(h, f.adminToken, 'GET', `/events?type=user_created&limit=200`)).json().items;
      assert.ok(
        events.some(
          (e: { actor: string; target: string }) => e.actor === `client:${svc.clientId}` && e.target === `user:${created.json().id}`,
        ),
      );
    });

    test('users: password set, end sessions, sessions list and end one, events filters', async () => {
      const u = await userWithToken(h, f.appClient, {});
      const sessions = (await api(h, f.adminToken, 'GET', `/sessions?user=${u.userId}`)).json().items;
      assert.equal(sessions.length, 1);
      const s = (await api(h, f.adminToken, 'GET', `/sessions/${sessions[0].id}`)).json();
      assert.equal(s.active, true);
      assert.equal((await api(h, f.adminToken, 'DELETE', `/sessions/${s.id}`)).statusCode, 204);
      assert.equal((await api(h, f.adminToken, 'GET', `/sessions/${s.id}`)).json().active, false);
      problem(await api(h, f.adminToken, 'POST', '/sessions', {}), 405);
      const pw = await api(h, f.adminToken, 'PUT', `/users/${u.userId}/password`, { password: 'a brand new password' });
      assert.equal(pw.statusCode, 200, pw.body);
      problem(await api(h, f.adminToken, 'PUT', `/users/${u.userId}/password`, { password: 'short' }), 400);
      const since = new Date(clock.now()).toISOString();
      const ev = (await api(h, f.adminToken, 'GET', `/events?user=${u.userId}&type=password_changed&since=${since}`)).json().items;
      assert.equal(ev.length, 1);
      assert.equal(ev[0].actor, `user:${f.adminUserId}`);
      problem(await api(h, f.adminToken, 'GET', '/events?since=yesterday'), 400);
      assert.equal((await api(h, f.adminToken, 'GET', `/events/${ev[0].id}`)).statusCode, 200);
    });

    test('idps: create, get, PATCH domains and jit, delete; org-admin outside its org gets 404', async () => {
      const pem = testIdp().certPem;
      const created = await api(h, f.adminToken, 'POST', '/idps', { entity_id: `https://idp-${Date.now()}.example`, certificates: [pem] });
      assert.equal(created.statusCode, 201, created.body);
      const idp = created.json();
      const patched = await api(h, f.adminToken, 'PATCH', `/idps/${idp.id}`, { domains: ['acme-admin.example'], jit: true });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual(patched.json().domains, ['acme-admin.example']);
      const elsewhere = (await api(h, f.adminToken, 'POST', '/orgs', { name: 'Elsewhere' })).json();
      const oa = await userWithToken(h, f.appClient, { role: 'org-admin', orgId: elsewhere.id });
      problem(await api(h, oa.token, 'GET', `/idps/${idp.id}`), 404);
      assert.equal((await api(h, f.adminToken, 'DELETE', `/idps/${idp.id}`)).statusCode, 204);
    });

    test('keys: list, rotate (POST), retire (DELETE), each with an event; org-admin 403; PATCH 405', async () => {
      await h.services.keys.ensureInitialKey();
      const list = (await api(h, f.adminToken, 'GET', '/keys')).json();
      assert.ok(list.items.length >= 1);
      const made = await api(h, f.adminToken, 'POST', '/keys', { alg: 'RS256', activate_in: 600 });
      assert.equal(made.statusCode, 201, made.body);
      const kid = made.json().kid;
      assert.equal((await api(h, f.adminToken, 'GET', `/keys/${kid}`)).json().status, 'pending');
      problem(await api(h, f.adminToken, 'POST', '/keys', { alg: 'HS256' }), 400);
      problem(await api(h, f.adminToken, 'PATCH', `/keys/${kid}`, {}), 405);
      const oa = await userWithToken(h, f.appClient, { role: 'org-admin' });
      problem(await api(h, oa.token, 'GET', '/keys'), 403);
      assert.equal((await api(h, f.adminToken, 'DELETE', `/keys/${kid}`)).statusCode, 204);
      const events = (await api(h, f.adminToken, 'GET', '/events?limit=50')).json().items as Array<{
        type: string;
        target: string;
        actor: string;
      }>;
      assert.ok(events.some((e) => e.type === 'key_rotated' && e.target === `key:${kid}` && e.actor === `user:${f.adminUserId}`));
      assert.ok(events.some((e) => e.type === 'key_retired' && e.target === `key:${kid}`));
    });

    test('no secret, password or request body in the logs', async () => {
      const secretish = 'a very secret password 123';
      await api(h, f.adminToken, 'POST', '/users', { email: uniqueEmail('log'), password: secretish });
      const c = (await api(h, f.adminToken, 'POST', '/clients', { name: 'Logged', redirect_urls: ['https://l.example/cb'] })).json();
      const text = h.logs.join('\n');
      assert.equal(text.includes(secretish), false);
      assert.equal(text.includes(c.client_secret), false);
      assert.equal(text.includes(f.adminToken), false);
    });
  });
}
