/**
 * The CLI reads its configuration exactly as the server does (one loadConfig, in the
 * composition root): a variable the server would refuse stops a CLI command with the same
 * one-line error, and a setting the server honours reaches the CLI's store too.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freshDatabase } from '../support/harness.ts';
import { assertFails, runBin } from './support.ts';

describe('CLI configuration is the server configuration', () => {
  test('a bad SQLITE_SYNCHRONOUS, DATABASE_POOL_SIZE or LOGIN_MAX_FAILURES stops a CLI command with a line naming the variable', async () => {
    const db = await freshDatabase('sqlite');
    try {
      for (const [variable, value] of [
        ['SQLITE_SYNCHRONOUS', 'SOMETIMES'],
        ['DATABASE_POOL_SIZE', '0'],
        ['LOGIN_MAX_FAILURES', 'many'],
      ] as const) {
        const result = await runBin(['org', 'list', '--json'], { env: { DATABASE_URL: db.url, [variable]: value } });
        assertFails(result, new RegExp(`^sei-auth: ${variable}: `));
        assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
      }
    } finally {
      await db.drop();
    }
  });

  test('the same variables, valid, let the command run', async () => {
    const db = await freshDatabase('sqlite');
    try {
      const result = await runBin(['org', 'list', '--json'], {
        env: { DATABASE_URL: db.url, SQLITE_SYNCHRONOUS: 'NORMAL', DATABASE_POOL_SIZE: '3' },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(Array.isArray(JSON.parse(result.stdout).orgs));
    } finally {
      await db.drop();
    }
  });
});
