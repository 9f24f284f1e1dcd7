/**
 * Issue #13 item 2: /metrics is closed by default. On the main port it needs METRICS_TOKEN (401
 * with a Bearer challenge and a body saying how to turn metrics on otherwise); METRICS_PORT (or
 * `serve --metrics-port`) serves them without a token on 127.0.0.1 only, started and stopped
 * with the server. The reason labels (SAML rejections…) appear nowhere else.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { newId } from '../../src/crypto/secrets.ts';
import { BIN, REPO_ROOT, runBin } from '../core/support.ts';
import { freshDatabase, storeKinds } from '../support/harness.ts';
import { freePort, TEST_KEY_ENCRYPTION_KEY_BASE64 } from '../support/server-process.ts';
import { createOpsApp, OPS_SCRAPE_HEADERS, type OpsApp, parseMetrics, sampleValue } from './support.ts';

const SAML_GRANT = 'urn:ietf:params:oauth:grant-type:saml2-bearer';

/** The documented 401 of a closed /metrics: a Bearer challenge and a JSON body saying how to turn it on. */
function assertClosed(status: number, wwwAuthenticate: string | null | undefined, body: string, mentions: RegExp[]): void {
  assert.equal(status, 401, body);
  assert.equal(wwwAuthenticate, 'Bearer realm="metrics"');
  const json = JSON.parse(body) as { error: string; error_description: string };
  assert.equal(json.error, 'unauthorized');
  for (const m of mentions) assert.match(json.error_description, m);
  assert.ok(!body.includes('sei_auth_'), 'no metric in a refusal');
}

/** Whether something accepts TCP connections at host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.connect(port, host);
  });
}

interface Served {
  child: ChildProcess;
  output: () => string;
  startup: Record<string, unknown>;
  stop(): Promise<number | null>;
}

/** `sei-auth serve …args` with info logs; resolves once its start-up line is out. */
async function serve(args: string[], env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    cwd: REPO_ROOT,
    // The key-encryption key PostgreSQL requires (contract §6), as startServerProcess gives it.
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      METRICS_TOKEN: '',
      METRICS_PORT: '',
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY_BASE64,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const line = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => / listening on /.test(String(l.msg)));
    if (line) {
      return {
        child,
        output: () => output,
        startup: line,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          const code = await exited;
          clearTimeout(timer);
          return code;
        },
      };
    }
    if (child.exitCode !== null) throw new Error(`serve exited early (${child.exitCode}): ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const kind of storeKinds()) {
  describe(`/metrics access [${kind}]`, () => {
    let closed: OpsApp;
    let withToken: OpsApp;
    before(async () => {
      closed = await createOpsApp(kind, { metricsToken: null });
      withToken = await createOpsApp(kind);
    });
    after(async () => {
      await closed?.close();
      await withToken?.close();
    });

    test('default configuration: GET /metrics is 401 with a Bearer challenge and a body saying how to enable it', async () => {
      const res = await closed.app.inject({ method: 'GET', url: '/metrics' });
      assertClosed(res.statusCode, res.headers['www-authenticate'] as string, res.body, [/METRICS_TOKEN/, /METRICS_PORT/]);
      assert.equal(res.headers['cache-control'], 'no-store');
      // No token is configured, so any token presented is invalid (RFC 6750 §3.1).
      const presented = await closed.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer whatever-0123456789' },
      });
      assert.equal(presented.statusCode, 401);
      assert.equal(presented.headers['www-authenticate'], 'Bearer realm="metrics", error="invalid_token"');
      assert.ok(!presented.body.includes('sei_auth_'));
    });

    test('reason labels are behind the protection: a SAML rejection reason shows in an authorized scrape and on no open endpoint', async () => {
      for (const o of [closed, withToken]) {
        const client = await o.services.clients.createClient({ name: 'ops', redirectUrls: ['https://app.example/callback'] });
        const res = await o.app.inject({
          method: 'POST',
          url: '/oauth/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({
            grant_type: SAML_GRANT,
            assertion: Buffer.from('not xml at all').toString('base64url'),
            client_id: client.client_id,
            client_secret: client.client_secret,
          }).toString(),
        });
        assert.equal(res.statusCode, 400, res.body);
        // The caller is told invalid_grant with a fixed description, never the reason.
        assert.ok(!res.body.includes('not_xml'), res.body);
      }
      const scraped = await withToken.app.inject({ method: 'GET', url: '/metrics', headers: OPS_SCRAPE_HEADERS });
      assert.equal(scraped.statusCode, 200);
      assert.equal(sampleValue(parseMetrics(scraped.body), 'sei_auth_saml_rejections_total', { reason: 'not_xml' }), 1);
      // Every GET endpoint of the app, without credentials, on both apps.
      for (const o of [closed, withToken]) {
        for (const url of ['/metrics', '/healthz', '/readyz', '/openapi.json', '/.well-known/oauth-authorization-server']) {
          const res = await o.app.inject({ method: 'GET', url });
          assert.ok(!res.body.includes('not_xml') && !res.body.includes('sei_auth_'), `${url} shows a metric or a reason: ${res.body}`);
        }
      }
    });

    test('sei-auth serve with the default configuration answers 401 on /metrics, and its start-up line says metrics are off', async () => {
      const db = await freshDatabase(kind);
      try {
        const port = await freePort();
        const server = await serve([], { DATABASE_URL: db.url, PORT: String(port) });
        try {
          assert.match(String(server.startup.metrics), /^off/);
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          assertClosed(res.status, res.headers.get('www-authenticate'), await res.text(), [/METRICS_TOKEN/, /METRICS_PORT/]);
        } finally {
          assert.equal(await server.stop(), 0);
        }
      } finally {
        await db.drop();
      }
    });

    test('METRICS_PORT: the metrics are on 127.0.0.1:<port> without a token, the main port refuses them, and the listener stops with the server', async () => {
      const db = await freshDatabase(kind);
      try {
        const [port, metricsPort] = [await freePort(), await freePort()];
        // --metrics-port is the flag form of METRICS_PORT; HOST is another loopback address, to
        // show that the metrics listener stays on 127.0.0.1 whatever HOST says.
        const server = await serve(['--metrics-port', String(metricsPort), '--host', '127.0.0.2'], {
          DATABASE_URL: db.url,
          PORT: String(port),
        });
        try {
          assert.equal(server.startup.metrics, `http://127.0.0.1:${metricsPort}/metrics`);
          assert.ok(String(server.startup.msg).includes(`metrics http://127.0.0.1:${metricsPort}/metrics`), String(server.startup.msg));

          const main = await fetch(`http://127.0.0.2:${port}/metrics`);
          assertClosed(main.status, main.headers.get('www-authenticate'), await main.text(), [/METRICS_PORT/]);

          const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
          assert.equal(scraped.status, 200);
          assert.match(String(scraped.headers.get('content-type')), /^text\/plain; version=0\.0\.4/);
          assert.equal(
            sampleValue(parseMetrics(await scraped.text()), 'sei_auth_build_info', { version: String(server.startup.version) }),
            1,
          );
          // Only GET /metrics there: nothing of the OAuth server.
          assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status, 404);
          assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/oauth/token`, { method: 'POST' })).status, 404);
          // Bound to 127.0.0.1 only: another address of the host (here 127.0.0.2) gets no answer.
          assert.equal(await accepts('127.0.0.2', metricsPort), false, 'the metrics listener is bound to 127.0.0.1 only');
          assert.equal(await accepts('127.0.0.2', port), true);
        } finally {
          assert.equal(await server.stop(), 0);
        }
        assert.equal(await accepts('127.0.0.1', metricsPort), false, 'the metrics listener closed with the server');
      } finally {
        await db.drop();
      }
    });
  });
}

describe('METRICS_PORT configuration', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sei-auth-metrics-port-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('METRICS_PORT is optional and 1–65535; anything else names METRICS_PORT', () => {
    assert.equal(loadConfig({}).metricsPort, undefined);
    assert.equal(loadConfig({ METRICS_PORT: '' }).metricsPort, undefined);
    assert.equal(loadConfig({ METRICS_PORT: '9464' }).metricsPort, 9464);
    for (const value of ['0', '65536', '-1', 'nine', '94.64']) {
      assert.throws(
        () => loadConfig({ METRICS_PORT: value }),
        (e: unknown) =>
          e instanceof ConfigError && e.variable === 'METRICS_PORT' && e.message.startsWith('METRICS_PORT:') && !e.message.includes('\n'),
        value,
      );
    }
    assert.throws(
      () => loadConfig({ PORT: '9000', METRICS_PORT: '9000' }),
      (e: unknown) => e instanceof ConfigError && e.variable === 'METRICS_PORT',
    );
  });

  const refusals: Array<[string, string[], Record<string, string>]> = [
    ['METRICS_PORT=0', [], { METRICS_PORT: '0' }],
    ['METRICS_PORT=65536', [], { METRICS_PORT: '65536' }],
    ['METRICS_PORT=metrics', [], { METRICS_PORT: 'metrics' }],
    ['METRICS_PORT equal to PORT', [], { PORT: '18123', METRICS_PORT: '18123' }],
    ['--metrics-port 70000', ['--metrics-port', '70000'], {}],
  ];
  for (const [name, args, env] of refusals) {
    test(`serve with ${name} exits non-zero with one stderr line naming METRICS_PORT`, async () => {
      const result = await runBin(['serve', ...args], {
        env: { PORT: '0', DATABASE_URL: `sqlite:${join(dir, `${newId('')}.db`)}`, ...env },
      });
      assert.notEqual(result.code, 0);
      assert.equal(result.stdout.trim(), '');
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /\bMETRICS_PORT\b/);
    });
  }

  test('serve with a METRICS_PORT already in use exits non-zero with one line naming METRICS_PORT, and leaves nothing listening', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const busy = typeof address === 'object' && address ? address.port : 0;
    const port = await freePort();
    try {
      const result = await runBin(['serve'], {
        env: { PORT: String(port), METRICS_PORT: String(busy), DATABASE_URL: `sqlite:${join(dir, 'busy.db')}` },
      });
      assert.notEqual(result.code, 0);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /\bMETRICS_PORT\b.*127\.0\.0\.1/);
      assert.equal(await accepts('127.0.0.1', port), false, 'the main port was closed again');
    } finally {
      blocker.close();
    }
  });
});
