/**
 * Contract §9, CLI parity: the commands beside the admin API, on the same services; every change
 * is recorded with the actor `cli`; `events` lists newest first with --type, --client and --ip.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertFails, runCliInProcess, singleJson, uniqueEmail } from '../core/support.ts';
import { createHarness, freshDatabase, type Harness, passwordLogin, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`admin CLI parity [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let h: Harness;
    const cli = (args: string[], input?: string) => runCliInProcess(args, { env: { DATABASE_URL: db.url }, input });

    before(async () => {
      db = await freshDatabase(kind);
      h = await createHarness({ kind, databaseUrl: db.url });
    });
    after(async () => {
      await h.close({ drop: false });
      await db.drop();
    });

    test('org update and delete (refused with users unless --cascade), each recorded with actor cli', async () => {
      const { id } = singleJson(await cli(['org', 'create', '--name', 'Acme', '--json'])) as { id: string };
      const updated = singleJson(await cli(['org', 'update', '--org', id, '--name', 'Acme Ltd', '--max-sessions', '3', '--json']));
      assert.equal(updated.name, 'Acme Ltd');
      assert.equal(updated.max_sessions, 3);
      singleJson(await cli(['user', 'create', '--email', uniqueEmail('in-org'), '--org', id, '--json']));
      assertFails(await cli(['org', 'delete', '--org', id]), /users/);
      assert.equal(singleJson(await cli(['org', 'delete', '--org', id, '--cascade', '--json'])).erased_users, 1);
      const events = singleJson(await cli(['events', '--type', 'org_updated', '--json'])).events as Array<{
        actor: string;
        target: string;
      }>;
      assert.ok(events.some((e) => e.actor === 'cli' && e.target === `org:${id}`));
    });

    test('user create --role, update, end-sessions, delete (erasure), with events naming cli', async () => {
      const s = await h.seed();
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      const made = singleJson(await cli(['user', 'create', '--email', uniqueEmail('root'), '--role', 'admin', '--json']));
      assert.equal((await h.store.users.find(made.id as string))?.role, 'admin');
      const updated = singleJson(await cli(['user', 'update', '--email', s.email, '--role', 'org-admin', '--max-sessions', '2', '--json']));
      assert.equal(updated.role, 'org-admin');
      assert.equal(singleJson(await cli(['user', 'end-sessions', '--email', s.email, '--json'])).ended_sessions, 1);
      const sessions = singleJson(await cli(['session', 'list', '--user', s.email, '--json'])).sessions as Array<{ active: boolean }>;
      assert.ok(sessions.length === 1 && !sessions[0]!.active);
      singleJson(await cli(['user', 'delete', '--user', s.userId, '--json']));
      assert.equal(await h.store.users.find(s.userId), undefined);
      const events = singleJson(await cli(['events', '--type', 'user_deleted', '--json'])).events as Array<{ actor: string }>;
      assert.equal(events[0]?.actor, 'cli');
    });

    test('client update changes redirect URLs, scopes and TTLs; client delete; rotate-secret --grace-seconds keeps the old secret', async () => {
      const s = await h.seed();
      const out = singleJson(
        await cli([
          'client',
          'update',
          '--client',
          s.clientId,
          '--redirect-url',
          'https://new.example/cb',
          '--scope',
          'reports:read',
          '--access-ttl',
          '120',
          '--token-type',
          'Bearer',
          '--json',
        ]),
      );
      assert.equal(out.updated, true);
      const client = await h.store.clients.find(s.clientId);
      assert.deepEqual(client?.redirectUrls, ['https://new.example/cb']);
      assert.deepEqual(client?.scopes, ['reports:read']);
      assert.equal(client?.accessTtl, 120);
      assert.equal(client?.tokenType, 'Bearer');
      assertFails(await cli(['client', 'update', '--client', s.clientId, '--redirect-url', 'not a url']));
      const rotated = singleJson(await cli(['client', 'rotate-secret', '--client', s.clientId, '--grace-seconds', '3600', '--json']));
      assert.ok(typeof rotated.previous_secret_expires_at === 'string');
      assert.equal((await passwordLogin(h, s)).statusCode, 200, 'the old secret still works during the grace');
      assert.equal(singleJson(await cli(['client', 'delete', '--client', s.clientId, '--json'])).deleted, true);
      assert.equal(await h.store.clients.find(s.clientId), undefined);
    });

    test('session end; events --client --ip newest first', async () => {
      const s = await h.seed();
      const login = await passwordLogin(h, s);
      assert.equal(login.statusCode, 200);
      const [session] = singleJson(await cli(['session', 'list', '--user', s.email, '--active', '--json'])).sessions as Array<{
        id: string;
      }>;
      assert.equal(singleJson(await cli(['session', 'end', '--session', session!.id, '--json'])).ended, true);
      const byClient = singleJson(await cli(['events', '--client', s.clientId, '--json'])).events as Array<{ at: string; type: string }>;
      assert.ok(byClient.length >= 2);
      assert.ok(
        byClient.every((e, i) => i === 0 || byClient[i - 1]!.at >= e.at),
        'newest first',
      );
      assert.equal(byClient[0]!.type, 'session_ended');
      const ip = (await h.store.events.list({ userId: s.userId })).find((e) => e.ip)?.ip;
      if (ip) assert.ok((singleJson(await cli(['events', '--ip', ip, '--json'])).events as unknown[]).length > 0);
    });
  });
}
