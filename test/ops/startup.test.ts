/**
 * Start-up (issue #7): `sei-auth serve` writes one line with the version, listen address, store
 * kind (scheme and host, never credentials), issuer and TTLs; on a fresh store it says what to
 * do next. The served process also wires the metrics the in-process tests cannot see (store
 * query timing from the very first query).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import { openStore } from '../../src/store/open-store.ts';
import { freshDatabase, servicesFor } from '../support/harness.ts';
import { startServerProcess } from '../support/server-process.ts';
import { parseMetrics, sampleValue } from './support.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const SECRET_PASSWORD = 's3cret';
const METRICS_TOKEN = 'mt_startup-0123456789';
const SCRAPE = { authorization: `Bearer ${METRICS_TOKEN}` };

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function startupLine(output: string): Record<string, unknown> {
  // Fastify's own "Server listening at …" would make two; ours says more, so it is the only one.
  const lines = jsonLines(output).filter((l) => typeof l.msg === 'string' && /listening/i.test(l.msg));
  assert.equal(lines.length, 1, `exactly one start-up line in:\n${output}`);
  assert.match(String(lines[0]!.msg), / listening on /);
  return lines[0]!;
}

const hasNextSteps = (output: string) => jsonLines(output).some((l) => String(l.msg).startsWith('fresh store:'));

describe('start-up', () => {
  test('one line states version, listen address, store kind, issuer and TTLs; a fresh store gets the next steps', async () => {
    const db = await freshDatabase('sqlite');
    try {
      const server = await startServerProcess({
        DATABASE_URL: db.url,
        LOG_LEVEL: 'info',
        ACCESS_TOKEN_TTL: '900',
        REFRESH_TOKEN_TTL: '86400',
        METRICS_TOKEN,
      });
      const line = startupLine(server.output());
      assert.equal(line.version, VERSION);
      assert.equal(line.listen, server.url);
      assert.equal(line.store, `sqlite (${db.url.slice('sqlite:'.length)})`);
      assert.equal(line.issuer, server.url);
      assert.equal(line.access_token_ttl, 900);
      assert.equal(line.refresh_token_ttl, 86400);
      // The human-readable message says the same, for operators reading plain text.
      const msg = String(line.msg);
      for (const part of [VERSION, server.url, 'sqlite', 'access TTL 900s', 'refresh TTL 86400s'])
        assert.ok(msg.includes(part), `${part} in ${msg}`);

      assert.ok(hasNextSteps(server.output()), 'a fresh store prints the next steps');
      const next = jsonLines(server.output()).find((l) => String(l.msg).startsWith('fresh store:'))!;
      assert.match(String(next.msg), /sei-auth client create .*--redirect-url/);
      assert.match(String(next.msg), /sei-auth user create .*--password-stdin/);

      // The served /metrics: store queries timed from the first one (migrations, /readyz), build info.
      const samples = parseMetrics(await (await fetch(`${server.url}/metrics`, { headers: SCRAPE })).text());
      assert.ok((sampleValue(samples, 'sei_auth_store_query_duration_seconds_count', { operation: 'select', outcome: 'ok' }) ?? 0) > 0);
      assert.equal(sampleValue(samples, 'sei_auth_build_info', { version: VERSION }), 1);
      assert.equal(await server.stop(), 0);

      // Once a client exists the store is no longer fresh: no next-steps line.
      const store = await openStore({ databaseUrl: db.url, now: systemClock.now() });
      await servicesFor(store, systemClock).clients.createClient({ name: 'App', redirectUrls: ['https://app.example/cb'] });
      await store.close();
      const again = await startServerProcess({ DATABASE_URL: db.url, LOG_LEVEL: 'info' });
      startupLine(again.output());
      assert.ok(!hasNextSteps(again.output()), 'no next steps once a client exists');
      assert.equal(await again.stop(), 0);
    } finally {
      await db.drop();
    }
  });

  test('a PostgreSQL URL with a password is shown as scheme and host only, the password never printed', {
    skip: process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL suite skipped)',
  }, async () => {
    const db = await freshDatabase('postgres');
    try {
      const url = new URL(db.url);
      // The CI cluster trusts local connections, so any password is accepted; it must still never be printed.
      url.password = SECRET_PASSWORD;
      const server = await startServerProcess({ DATABASE_URL: url.toString(), LOG_LEVEL: 'debug', METRICS_TOKEN });
      const line = startupLine(server.output());
      assert.equal(line.store, `postgres (${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname})`);
      await fetch(`${server.url}/readyz`);
      assert.equal((await fetch(`${server.url}/metrics`, { headers: SCRAPE })).status, 200);
      assert.equal(await server.stop(), 0);
      assert.ok(!server.output().includes(SECRET_PASSWORD), `the password appears in the output:\n${server.output()}`);
    } finally {
      await db.drop();
    }
  });
});
