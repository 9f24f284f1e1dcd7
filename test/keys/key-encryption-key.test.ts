/**
 * Contract §6 "private parts encrypted at rest": the key-encryption key from KEY_ENCRYPTION_KEY,
 * or on SQLite a 0600 key file beside the database (created atomically, named in a warning,
 * reused after a restart); a wide-open or malformed key file, PostgreSQL without the variable and
 * a wrong key are refused in one line; the database never holds a private key in the clear.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openPlatform } from '../../src/composition-root.ts';
import { KeyEncryptionKeyError, keyFilePath, resolveKeyEncryptionKey } from '../../src/keys/key-encryption-key.ts';
import { openPrivateJwk } from '../../src/keys/key-sealing.ts';
import { rawDriver } from '../store/support.ts';
import { freshDatabase, storeKinds } from '../support/harness.ts';

const KEY_MODULE = fileURLToPath(new URL('../../src/keys/key-encryption-key.ts', import.meta.url));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sei-auth-kek-'));
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sqliteUrl(): { url: string; path: string } {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir, 'auth.db');
  return { url: `sqlite:${path}`, path };
}

describe('key-encryption key: resolution', () => {
  test('without KEY_ENCRYPTION_KEY on SQLite: a key file beside the database, mode 0600, named in a warning, then reused', () => {
    const { url, path } = sqliteUrl();
    const warnings: string[] = [];
    const first = resolveKeyEncryptionKey({ configured: undefined, databaseUrl: url, warn: (m) => warnings.push(m) });
    const file = keyFilePath(path);
    assert.equal(file, `${path}.key-encryption-key`);
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(first.key.length, 32);
    assert.equal(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').toString('hex'), first.key.toString('hex'));
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(file), warnings[0]);
    assert.match(warnings[0]!, /\(created now\).*back it up.*set KEY_ENCRYPTION_KEY in production/);
    assert.ok(!warnings[0]!.includes(first.key.toString('base64')), 'the warning never holds the key');
    const again = resolveKeyEncryptionKey({ configured: undefined, databaseUrl: url, warn: (m) => warnings.push(m) });
    assert.deepEqual(again.key, first.key, 'reused');
    assert.ok(warnings[1]!.includes(file) && !warnings[1]!.includes('created now'));
  });

  test('KEY_ENCRYPTION_KEY overrides: no key file, no warning', () => {
    const { url, path } = sqliteUrl();
    const configured = randomBytes(32);
    const warnings: string[] = [];
    const kek = resolveKeyEncryptionKey({ configured, databaseUrl: url, warn: (m) => warnings.push(m) });
    assert.deepEqual(kek.key, configured);
    assert.equal(kek.source, 'KEY_ENCRYPTION_KEY');
    assert.equal(existsSync(keyFilePath(path)), false);
    assert.deepEqual(warnings, []);
  });

  test('a key file others may read, or one without a 32-byte base64 key, is refused in one line', () => {
    const { url, path } = sqliteUrl();
    resolveKeyEncryptionKey({ configured: undefined, databaseUrl: url, warn: () => {} });
    const file = keyFilePath(path);
    const key = readFileSync(file, 'utf8');
    chmodSync(file, 0o644);
    assert.throws(
      () => resolveKeyEncryptionKey({ configured: undefined, databaseUrl: url, warn: () => {} }),
      (e: Error) =>
        e instanceof KeyEncryptionKeyError && e.message.includes(file) && /mode 0644/.test(e.message) && !e.message.includes('\n'),
    );
    for (const content of ['not base64 at all!', Buffer.alloc(16).toString('base64'), '']) {
      chmodSync(file, 0o600);
      writeFileSync(file, content);
      assert.throws(
        () => resolveKeyEncryptionKey({ configured: undefined, databaseUrl: url, warn: () => {} }),
        (e: Error) => e instanceof KeyEncryptionKeyError && /does not hold a base64 key of 32 bytes/.test(e.message),
      );
    }
    writeFileSync(file, key);
  });

  test('PostgreSQL without KEY_ENCRYPTION_KEY: an error naming the variable; an in-memory database: an ephemeral key, with a warning', () => {
    assert.throws(
      () => resolveKeyEncryptionKey({ configured: undefined, databaseUrl: 'postgres://db.example/auth', warn: () => {} }),
      (e: Error) => e instanceof KeyEncryptionKeyError && /^KEY_ENCRYPTION_KEY is not set: on PostgreSQL/.test(e.message),
    );
    const warnings: string[] = [];
    const kek = resolveKeyEncryptionKey({ configured: undefined, databaseUrl: 'sqlite::memory:', warn: (m) => warnings.push(m) });
    assert.equal(kek.key.length, 32);
    assert.match(warnings.join(), /in-memory database: .*ephemeral/);
  });

  test('processes creating the key file at once all end up with the same key', async () => {
    const { url } = sqliteUrl();
    const script = `import { resolveKeyEncryptionKey } from ${JSON.stringify(KEY_MODULE)};
      process.stdout.write(resolveKeyEncryptionKey({ configured: undefined, databaseUrl: ${JSON.stringify(url)}, warn: () => {} }).key.toString('hex'));`;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
      });
    const keys = await Promise.all([run(), run(), run(), run()]);
    assert.equal(new Set(keys).size, 1, keys.join(' '));
    assert.equal(keys[0]!.length, 64);
  });
});

for (const kind of storeKinds()) {
  describe(`key-encryption key: the keys at rest [${kind}]`, () => {
    test('the keys survive a restart; the table never holds a private key in the clear; a wrong key is one clear line', async () => {
      const db = await freshDatabase(kind);
      const kekB64 = randomBytes(32).toString('base64');
      // On SQLite the key file is used (no variable); on PostgreSQL the variable is required.
      const env = kind === 'sqlite' ? { DATABASE_URL: db.url } : { DATABASE_URL: db.url, KEY_ENCRYPTION_KEY: kekB64 };
      const warnings: string[] = [];
      try {
        const first = await openPlatform(env, { warn: (m) => warnings.push(m) });
        await first.services.keys.ensureInitialKey();
        await first.services.keys.rotate({ alg: 'RS256', activateInSeconds: 0 });
        await first.services.keys.rotate({ alg: 'EdDSA', activateInSeconds: 0 });
        const token = await first.services.keys.sign({ sub: 'survivor' }, { typ: 'at+jwt' });
        const kids = (await first.services.keys.list()).map((k) => k.kid);
        await first.close();
        if (kind === 'sqlite') {
          const file = keyFilePath(db.url.slice('sqlite:'.length));
          assert.equal(warnings.length, 1, 'one warning per process');
          assert.ok(warnings[0]!.includes(file));
          assert.equal(statSync(file).mode & 0o777, 0o600);
        } else {
          assert.deepEqual(warnings, []);
        }

        const second = await openPlatform(env, { warn: (m) => warnings.push(m) });
        await second.services.keys.ensureInitialKey();
        assert.deepEqual(
          (await second.services.keys.list()).map((k) => k.kid),
          kids,
        );
        assert.equal((await second.services.keys.verifyOwn(token))?.sub, 'survivor');
        assert.ok(await second.services.keys.sign({ sub: 'again' }, { typ: 'at+jwt' }));
        await second.close();

        // The raw rows: no private JWK member in the clear, only the sealed box.
        const driver = await rawDriver(kind, db.url);
        const rows = await driver.all<Record<string, string>>('SELECT * FROM signing_keys');
        await driver.close();
        // ES256 and RS256 made on first start, one rotation
        assert.equal(rows.length, 4);
        const kek =
          kind === 'sqlite'
            ? { key: Buffer.from(readFileSync(keyFilePath(db.url.slice('sqlite:'.length)), 'utf8').trim(), 'base64'), source: 'file' }
            : { key: Buffer.from(kekB64, 'base64'), source: 'KEY_ENCRYPTION_KEY' };
        for (const row of rows) {
          const secret = JSON.parse(openPrivateJwk(kek, row.kid!, row.private_jwk_sealed!)) as Record<string, string>;
          assert.ok(secret.d && secret.d.length > 20);
          const raw = JSON.stringify(row);
          for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
            if (secret[member]) assert.ok(!raw.includes(secret[member]), `${member} in the clear in ${row.alg}`);
          }
          assert.equal((JSON.parse(row.public_jwk!) as { d?: string }).d, undefined);
          // The kid is authenticated: a sealed key moved to another row does not open.
          assert.throws(() => openPrivateJwk(kek, 'another-kid', row.private_jwk_sealed!), KeyEncryptionKeyError);
        }

        // Another key-encryption key: start-up fails with one line naming the variable and the kid, never a key.
        const wrong = randomBytes(32).toString('base64');
        const third = await openPlatform({ DATABASE_URL: db.url, KEY_ENCRYPTION_KEY: wrong }, { warn: () => {} });
        await assert.rejects(third.services.keys.ensureInitialKey(), (e: Error) => {
          assert.ok(e instanceof KeyEncryptionKeyError);
          assert.match(e.message, /^KEY_ENCRYPTION_KEY does not decrypt signing key [A-Za-z0-9_-]+: /);
          assert.ok(!e.message.includes('\n'));
          assert.ok(!e.message.includes(wrong) && !e.message.includes(kekB64));
          return true;
        });
        // A command that never touches the keys needs no key-encryption key.
        assert.ok(Array.isArray(await third.services.accounts.listOrgs()));
        await third.close();
      } finally {
        await db.drop();
      }
    });
  });
}
