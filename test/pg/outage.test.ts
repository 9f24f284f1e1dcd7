/**
 * Database outage (issue #5): with PostgreSQL unreachable, requests get a prompt 503
 * temporarily_unavailable, /readyz says not ready, /healthz stays up; when the database comes
 * back the same server recovers on its own, and nothing issued before is lost.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, startServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/logger.ts';
import { createHarness, freshDatabase, type Harness, introspect, passwordLogin, type Seeded, servicesFor } from '../support/harness.ts';
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

/**
 * Issue #13 item 13: an outage is one warn line with its cause (the database's host and the error
 * code, never credentials), however many requests fail, and its end is one more line.
 */
describe('PostgreSQL outage in the log: one line down, one line back', { skip }, () => {
  const PASSWORD_IN_URL = 'outage-secret-pw-9f3';
  let db: { url: string; drop: () => Promise<void> };
  let relay: Relay;
  let server: RunningServer;
  const lines: Array<Record<string, unknown>> = [];

  before(async () => {
    db = await freshDatabase('postgres');
    const target = new URL(db.url);
    relay = new Relay({ host: target.hostname, port: Number(target.port || 5432) });
    await relay.up();
    const proxied = new URL(db.url);
    proxied.port = String(relay.port);
    // The test cluster trusts local connections: any password is accepted, and must never be printed.
    proxied.password = PASSWORD_IN_URL;
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    server = await startServer(
      { DATABASE_URL: proxied.toString(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      { logger: createLogger('info', sink) },
    );
  });

  after(async () => {
    await server?.close();
    await relay.down();
    await db?.drop();
  });

  test('many failed requests make one warn line naming the host and the error code; recovery makes one more', async () => {
    const services = servicesFor(server.store);
    const email = `outage-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    await services.accounts.createUser({ email, password });
    const client = await services.clients.createClient({ name: 'outage', redirectUrls: ['https://app.example/cb'] });
    const login = () =>
      fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: client.client_id,
          client_secret: client.client_secret,
          email,
          password,
        }),
      });
    assert.equal((await login()).status, 200);
    const down = () => lines.filter((l) => String(l.msg).startsWith('store unavailable'));
    const back = () => lines.filter((l) => String(l.msg).startsWith('store available again'));
    assert.equal(down().length, 0);

    await relay.down();
    const during = await Promise.all(Array.from({ length: 12 }, () => login()));
    for (const res of during) assert.equal(res.status, 503);
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
    assert.equal(down().length, 1, JSON.stringify(down()));
    const [line] = down();
    assert.equal(line!.level, 40, 'warn');
    assert.equal(line!.store, `postgres (127.0.0.1:${relay.port}${new URL(db.url).pathname})`);
    assert.match(String(line!.cause), /^(E[A-Z]+|[0-9A-Z]{5})$/, 'an error code');
    assert.ok(String(line!.msg).includes(`127.0.0.1:${relay.port}`), String(line!.msg));
    assert.equal(back().length, 0);

    await relay.up();
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      recovered = (await login()).status === 200;
      if (!recovered) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(recovered, 'logins succeed again once the database is back');
    for (let i = 0; i < 5; i++) assert.equal((await login()).status, 200);
    assert.equal(back().length, 1, JSON.stringify(back()));
    assert.equal(back()[0]!.level, 40);
    assert.ok(typeof back()[0]!.down_for_ms === 'number');
    assert.equal(down().length, 1, 'still one line for the one outage');
    assert.ok(!JSON.stringify(lines).includes(PASSWORD_IN_URL), 'the password never reaches the log');
  });
});
