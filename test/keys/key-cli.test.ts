/**
 * `sei-auth keys list|rotate|retire` (contract §6): one JSON object with --json, a bad algorithm,
 * delay or kid is one line on stderr with a non-zero exit, and neither the key-encryption key nor
 * a private key ever reaches the output. SQLite: the real bin; PostgreSQL: the same tree in process.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { keyFilePath } from '../../src/keys/key-encryption-key.ts';
import { openPrivateJwk } from '../../src/keys/key-sealing.ts';
import { assertFails, type CliResult, runBin, runCliInProcess, singleJson } from '../core/support.ts';
import { rawDriver } from '../store/support.ts';
import { freshDatabase, storeKinds } from '../support/harness.ts';

interface ListedKey {
  kid: string;
  alg: string;
  status: string;
  created_at: string;
}

for (const kind of storeKinds()) {
  describe(`sei-auth keys [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    const kekB64 = randomBytes(32).toString('base64');
    const outputs: CliResult[] = [];
    const run = kind === 'sqlite' ? runBin : runCliInProcess;
    const env = () => (kind === 'sqlite' ? { DATABASE_URL: db.url } : { DATABASE_URL: db.url, KEY_ENCRYPTION_KEY: kekB64 });
    const cli = async (args: string[], extraEnv: Record<string, string> = {}) => {
      const result = await run(args, { env: { ...env(), ...extraEnv } });
      outputs.push(result);
      return result;
    };
    const listJson = (result: CliResult): unknown => {
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout);
    };
    const list = async () => listJson(await cli(['keys', 'list', '--json'])) as ListedKey[];
    const oneLineFailure = (result: CliResult, pattern: RegExp) => {
      assertFails(result, pattern);
      assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
    };

    before(async () => {
      db = await freshDatabase(kind);
    });
    after(async () => db.drop());

    test('list, rotate (ES256 by default, another algorithm, a delay), retire: one JSON object each', async () => {
      assert.deepEqual(await list(), [], 'no key before the server first starts');
      const rotated = await cli(['keys', 'rotate', '--json']);
      const made = singleJson(rotated);
      assert.match(String(made.kid), /^[A-Za-z0-9_-]{16,}$/);
      assert.equal(made.alg, 'ES256');
      if (kind === 'sqlite') {
        const file = keyFilePath(db.url.slice('sqlite:'.length));
        assert.ok(rotated.stderr.includes(`warning: signing keys are sealed with the key file ${file} (created now)`), rotated.stderr);
      }
      const rs = singleJson(await cli(['keys', 'rotate', '--alg', 'RS256', '--activate-in', '0', '--json']));
      const keys = await list();
      assert.deepEqual(
        keys.map((k) => [k.kid, k.alg, k.status]).sort(),
        [
          [made.kid, 'ES256', 'pending'],
          [rs.kid, 'RS256', 'active'],
        ].sort(),
      );
      for (const k of keys) assert.ok(!Number.isNaN(Date.parse(k.created_at)));
      const retired = singleJson(await cli(['keys', 'retire', '--kid', String(made.kid), '--json']));
      assert.deepEqual(retired, { kid: made.kid, retired: true });
      assert.equal((await list()).find((k) => k.kid === made.kid)?.status, 'retired');
      const human = await cli(['keys', 'list']);
      assert.equal(human.code, 0);
      assert.match(human.stdout, new RegExp(`${rs.kid}\\tRS256\\tactive`));
    });

    test('a bad algorithm, delay or kid: one line on stderr, non-zero exit, nothing made', async () => {
      const before = (await list()).length;
      oneLineFailure(await cli(['keys', 'rotate', '--alg', 'HS256']), /unknown signing algorithm "HS256": use one of ES256, RS256, EdDSA/);
      oneLineFailure(await cli(['keys', 'rotate', '--alg', 'none', '--json']), /unknown signing algorithm/);
      for (const bad of ['-5', '1.5', 'abc', '']) {
        oneLineFailure(await cli(['keys', 'rotate', `--activate-in=${bad}`, '--json']), /--activate-in must be a whole number of seconds/);
      }
      oneLineFailure(await cli(['keys', 'retire', '--kid', 'no-such-key']), /no signing key with kid no-such-key/);
      const active = (await list()).find((k) => k.status === 'active')!;
      oneLineFailure(await cli(['keys', 'retire', '--kid', active.kid]), /is the active RS256 key: rotate first/);
      const retired = (await list()).find((k) => k.status === 'retired')!;
      oneLineFailure(await cli(['keys', 'retire', '--kid', retired.kid]), /already retired/);
      assertFails(await cli(['keys', 'retire']), /--kid/);
      assert.equal((await list()).length, before);
    });

    if (kind === 'postgres') {
      test('PostgreSQL without KEY_ENCRYPTION_KEY: keys commands that need it fail in one line naming it; the others work', async () => {
        oneLineFailure(await cli(['keys', 'rotate'], { KEY_ENCRYPTION_KEY: '' }), /^sei-auth: KEY_ENCRYPTION_KEY is not set/);
        assert.ok(Array.isArray(singleJson(await cli(['org', 'list', '--json'], { KEY_ENCRYPTION_KEY: '' })).orgs));
        assert.ok(Array.isArray(listJson(await cli(['keys', 'list', '--json'], { KEY_ENCRYPTION_KEY: '' }))));
      });
    }

    test('neither the key-encryption key nor any private key member ever reached the output', async () => {
      const kek =
        kind === 'sqlite'
          ? Buffer.from(readFileSync(keyFilePath(db.url.slice('sqlite:'.length)), 'utf8').trim(), 'base64')
          : Buffer.from(kekB64, 'base64');
      const driver = await rawDriver(kind, db.url);
      const rows = await driver.all<Record<string, string>>('SELECT kid, private_jwk_sealed FROM signing_keys');
      await driver.close();
      const secrets = [kek.toString('base64'), kek.toString('base64url'), kek.toString('hex')];
      for (const row of rows) {
        const jwk = JSON.parse(openPrivateJwk({ key: kek, source: 'test' }, row.kid!, row.private_jwk_sealed!)) as Record<string, string>;
        for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) if (jwk[member]) secrets.push(jwk[member]);
      }
      assert.ok(secrets.length > 4);
      const all = outputs.map((o) => o.stdout + o.stderr).join('\n');
      for (const secret of secrets) assert.ok(!all.includes(secret), 'a secret reached the CLI output');
    });
  });
}
