/**
 * Database outage (issue #5): with PostgreSQL unreachable, requests get a prompt 503
 * temporarily_unavailable, /readyz says not ready, /healthz stays up; when the database comes
 * back the same server recovers on its own, and nothing issued before is lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, freshDatabase, type Harness, introspect, passwordLogin, type Seeded } from '../support/harness.ts';
import { Relay } from '../support/tcp-relay.ts';

const skip = process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL suite skipped)';

describe('PostgreSQL outage and recovery', { skip }, () => {
  let db: { url: string; drop: () => Promise<void> };
  let relay: Relay;
  let h: Harness;
  let s: Seeded;

  before(async () => {
    db = await freshDatabase('postgres');
    const target = new URL(db.url);
    relay = new Relay({ host: target.hostname, port: Number(target.port || 5432) });
    await relay.up();
    const proxied = new URL(db.url);
    proxied.port = String(relay.port);
    h = await createHarness({ databaseUrl: proxied.toString() });
    s = await h.seed();
  });

  after(async () => {
    await h?.close();
    await relay.down();
    await db?.drop();
  });

  test('503 temporarily_unavailable while the database is down, recovery without a restart', async () => {
    const before = await passwordLogin(h, s);
    assert.equal(before.statusCode, 200);
    const token = before.json().access_token as string;

    await relay.down();
    const started = Date.now();
    const during = await passwordLogin(h, s);
    assert.equal(during.statusCode, 503);
    assert.equal(during.json().error, 'temporarily_unavailable');
    assert.equal(during.headers['cache-control'], 'no-store');
    assert.ok(Date.now() - started < 5000, 'the 503 must come promptly');
    assert.equal((await introspect(h, s, token)).statusCode, 503);
    assert.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    assert.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);

    await relay.up();
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      const res = await passwordLogin(h, s);
      recovered = res.statusCode === 200;
      if (!recovered) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(recovered, 'logins succeed again once the database is back');
    assert.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    // Nothing issued before the outage was lost.
    assert.equal((await introspect(h, s, token)).json().active, true);
  });
});
