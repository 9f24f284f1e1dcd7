/**
 * Signing keys across real server processes: several starting at once on a fresh database make
 * exactly one first key (SQLite and PostgreSQL); the key file is named in a warning; a wrong or
 * missing key-encryption key stops start-up in one line, never with the key in it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { keyFilePath } from '../../src/keys/key-encryption-key.ts';
import { openPrivateJwk } from '../../src/keys/key-sealing.ts';
import { rawDriver } from '../store/support.ts';
import { freshDatabase, storeKinds } from '../support/harness.ts';
import { startServerProcess, TEST_KEY_ENCRYPTION_KEY_BASE64 } from '../support/server-process.ts';

async function startupFailure(env: Record<string, string>): Promise<string> {
  try {
    const server = await startServerProcess(env);
    await server.stop();
  } catch (error) {
    const match = /^server exited early \((\d+)\): ([\s\S]*)$/.exec((error as Error).message);
    assert.ok(match, (error as Error).message);
    assert.notEqual(match[1], '0');
    return match[2]!.trim();
  }
  assert.fail('the server started');
}

for (const kind of storeKinds()) {
  describe(`signing keys across server processes [${kind}]`, () => {
    test('three processes starting at once on a fresh database make one key; a wrong key-encryption key stops start-up', async () => {
      const db = await freshDatabase(kind);
      try {
        const servers = await Promise.all([1, 2, 3].map(() => startServerProcess({ DATABASE_URL: db.url })));
        try {
          const sets = await Promise.all(
            servers.map(async (s) => (await (await fetch(`${s.url}/oauth/jwks`)).json()) as { keys: { kid: string }[] }),
          );
          const driver = await rawDriver(kind, db.url);
          const rows = await driver.all<{ kid: string; alg: string }>('SELECT kid, alg FROM signing_keys');
          await driver.close();
          assert.deepEqual(rows.map((r) => r.alg).sort(), ['ES256', 'RS256'], 'exactly one first key of each algorithm');
          for (const set of sets) assert.deepEqual(set.keys.map((k) => k.kid).sort(), rows.map((r) => r.kid).sort());
          if (kind === 'sqlite') {
            const file = keyFilePath(db.url.slice('sqlite:'.length));
            for (const s of servers) assert.ok(s.output().includes(`signing keys are sealed with the key file ${file}`), s.output());
            assert.equal(servers.filter((s) => s.output().includes('(created now)')).length, 1, 'one process created it');
          }
          // Neither the key-encryption key nor a private key member reaches the log.
          const kek =
            kind === 'sqlite'
              ? Buffer.from(readFileSync(keyFilePath(db.url.slice('sqlite:'.length)), 'utf8').trim(), 'base64')
              : Buffer.from(TEST_KEY_ENCRYPTION_KEY_BASE64, 'base64');
          const driver2 = await rawDriver(kind, db.url);
          const sealed = (
            await driver2.all<{ kid: string; private_jwk_sealed: string }>('SELECT kid, private_jwk_sealed FROM signing_keys')
          )[0]!;
          await driver2.close();
          const jwk = JSON.parse(openPrivateJwk({ key: kek, source: 'test' }, sealed.kid, sealed.private_jwk_sealed)) as { d: string };
          for (const s of servers) {
            for (const secret of [kek.toString('base64'), kek.toString('base64url'), kek.toString('hex'), jwk.d]) {
              assert.ok(!s.output().includes(secret), 'a secret reached the server output');
            }
          }
        } finally {
          await Promise.all(servers.map((s) => s.stop()));
        }

        const wrong = randomBytes(32).toString('base64');
        const failure = await startupFailure({ DATABASE_URL: db.url, KEY_ENCRYPTION_KEY: wrong });
        assert.match(failure, /^sei-auth: KEY_ENCRYPTION_KEY does not decrypt signing key [A-Za-z0-9_-]+: /);
        assert.equal(failure.split('\n').length, 1, failure);
        assert.ok(!failure.includes(wrong));
        if (kind === 'postgres') {
          const missing = await startupFailure({ DATABASE_URL: db.url, KEY_ENCRYPTION_KEY: '' });
          assert.match(missing, /^sei-auth: KEY_ENCRYPTION_KEY is not set: on PostgreSQL every instance must share it/);
          assert.equal(missing.split('\n').length, 1, missing);
        }
      } finally {
        await db.drop();
      }
    });
  });
}
