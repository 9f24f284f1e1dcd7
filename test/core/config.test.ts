/**
 * Contract §1 configuration: the defaults, and "a bad value (an unparsable URL, a negative TTL)
 * stops start-up with a one-line error naming the variable; it never starts half-configured".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { BIN, runBin, startServerProcess } from './support.ts';

describe('configuration from environment variables', () => {
  test('the defaults are the contract table', () => {
    const { port, host, databaseUrl, issuer, accessTokenTtl, refreshTokenTtl, logLevel } = loadConfig({});
    assert.deepEqual(
      { port, host, databaseUrl, issuer, accessTokenTtl, refreshTokenTtl, logLevel },
      {
        port: 8080,
        host: '127.0.0.1',
        databaseUrl: 'sqlite:./data/sei-auth.db',
        issuer: 'http://localhost:8080',
        accessTokenTtl: 3600,
        refreshTokenTtl: 2_592_000,
        logLevel: 'info',
      },
    );
  });

  test('ISSUER defaults to http://localhost:<PORT>', () => {
    assert.equal(loadConfig({ PORT: '9000' }).issuer, 'http://localhost:9000');
  });

  test('every variable is read', () => {
    const config = loadConfig({
      PORT: '9001',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u@db.example:5432/auth',
      ISSUER: 'https://auth.example.com/',
      ACCESS_TOKEN_TTL: '60',
      REFRESH_TOKEN_TTL: '120',
      LOG_LEVEL: 'debug',
    });
    assert.equal(config.port, 9001);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.databaseUrl, 'postgres://u@db.example:5432/auth');
    assert.equal(config.issuer, 'https://auth.example.com', 'a trailing slash is dropped');
    assert.equal(config.accessTokenTtl, 60);
    assert.equal(config.refreshTokenTtl, 120);
    assert.equal(config.logLevel, 'debug');
  });

  const bad: Array<[string, string]> = [
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', 'eighty'],
    ['PORT', '80.5'],
    ['ACCESS_TOKEN_TTL', '-5'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['ACCESS_TOKEN_TTL', '1h'],
    ['REFRESH_TOKEN_TTL', '-1'],
    ['REFRESH_TOKEN_TTL', '1e9'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'sqlite:'],
    ['DATABASE_URL', 'postgres://'],
    ['ISSUER', 'not-a-url'],
    ['ISSUER', 'ftp://auth.example.com'],
    ['ISSUER', 'https://auth.example.com/?q=1'],
    ['LOG_LEVEL', 'loud'],
  ];
  for (const [variable, value] of bad) {
    test(`${variable}=${value} is refused with a one-line error naming ${variable}`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.variable, variable);
          assert.ok(error.message.startsWith(`${variable}:`), error.message);
          assert.equal(error.message.includes('\n'), false);
          return true;
        },
      );
    });
  }
});

describe('sei-auth serve refuses a bad configuration', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sei-auth-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, Record<string, string>]> = [
    ['PORT', { PORT: '-1' }],
    ['ACCESS_TOKEN_TTL', { ACCESS_TOKEN_TTL: '-5' }],
    ['REFRESH_TOKEN_TTL', { REFRESH_TOKEN_TTL: 'forever' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['ISSUER', { ISSUER: 'not-a-url' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'chatty' }],
    ['SESSION_RETENTION_DAYS', { SESSION_RETENTION_DAYS: '-1' }],
    ['MAINTENANCE_INTERVAL', { MAINTENANCE_INTERVAL: '0' }],
  ];
  for (const [variable, env] of cases) {
    test(`serve with ${Object.entries(env)[0]!.join('=')} exits non-zero with one stderr line naming ${variable}, and starts nothing`, async () => {
      const file = join(dir, `${variable}.db`);
      const result = await runBin(['serve'], { env: { PORT: '0', DATABASE_URL: `sqlite:${file}`, ...env } });
      assert.notEqual(result.code, 0);
      assert.equal(result.stdout.trim(), '');
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, new RegExp(`\\b${variable}\\b`));
      assert.equal(existsSync(file), false, 'no database was created');
    });
  }

  test('serve flags are checked like the variables they stand for', async () => {
    const result = await runBin(['serve', '--issuer', 'not-a-url'], { env: { PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'flag.db')}` } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr.trim(), /^[^\n]*\bISSUER\b[^\n]*$/);
  });

  test('serve on a port already in use exits non-zero with one line on stderr', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await runBin(['serve'], { env: { PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'busy.db')}` } });
      assert.notEqual(result.code, 0);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /EADDRINUSE|in use/);
    } finally {
      blocker.close();
    }
  });

  // Issue #13 item 13: only the default database's folder is created; any other path into a
  // missing folder is an error naming it (a typo must not start a new, empty database).
  test('serve with a good configuration creates the database file in its existing folder, and the metadata names the ISSUER', async () => {
    const folder = join(dir, 'existing');
    mkdirSync(folder);
    const file = join(folder, 'sei-auth.db');
    const server = await startServerProcess({
      DATABASE_URL: `sqlite:${file}`,
      ISSUER: 'https://issuer.example.test',
      ACCESS_TOKEN_TTL: '77',
    });
    try {
      assert.ok(existsSync(file), 'the SQLite file was created');
      const doc = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.equal(doc.issuer, 'https://issuer.example.test');
      assert.equal(doc.token_endpoint, 'https://issuer.example.test/oauth/token');
    } finally {
      await server.stop();
    }
    assert.equal(server.child.exitCode, 0, 'SIGTERM shuts the server down cleanly');
  });

  test('a sqlite: path into a missing folder is an error naming the folder, for serve and the CLI alike; nothing is created', async () => {
    const missing = join(dir, 'no-such-folder', 'deeper');
    for (const args of [['serve'], ['user', 'list', '--json']]) {
      const result = await runBin(args, { env: { PORT: '0', DATABASE_URL: `sqlite:${join(missing, 'sei-auth.db')}` } });
      assert.notEqual(result.code, 0, args.join(' '));
      assert.equal(result.stdout.trim(), '');
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /DATABASE_URL/);
      assert.ok(lines[0]!.includes(missing), `the folder is named: ${lines[0]}`);
      assert.equal(existsSync(join(dir, 'no-such-folder')), false, 'no folder was created');
    }
  });

  test('the default database (sqlite:./data/sei-auth.db) creates ./data in a fresh folder', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'sei-auth-fresh-clone-'));
    try {
      const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'warn' };
      delete env.DATABASE_URL;
      const result = spawnSync(process.execPath, [BIN, 'user', 'list', '--json'], { cwd: fresh, env, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { users: [] });
      assert.ok(existsSync(join(fresh, 'data', 'sei-auth.db')), 'the default database was created in ./data');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
