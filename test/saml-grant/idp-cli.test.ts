/**
 * The IdP registry from the command line (issue #4 item 1, contract §2): `sei-auth idp create`,
 * `add-cert`, `remove-cert` and `list`, spawned as the real bin on SQLite (and the same command
 * tree in process on PostgreSQL). Bad certificates are refused at registration with a clear
 * message; a key rotation works end to end through POST /oauth/token; and a server whose IdP
 * certificate expires within 30 days says so at start-up.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertFails, type CliResult, runBin, runCliInProcess, singleJson } from '../core/support.ts';
import { freshDatabase, storeKinds } from '../support/harness.ts';
import { type ServerProcess, startServerProcess } from '../support/server-process.ts';
import { b64, responseWithSignedAssertion, testIdp } from '../support/test-idp.ts';
import { assertSamlRejected, assertSeedTokenResponse, type SamlHarness, samlHarness, samlLogin } from './support.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/saml/', import.meta.url));
const certFile = (name: 'primary' | 'secondary' | 'attacker' | 'expired') => join(FIXTURES, `test-only-${name}.cert.pem`);
const fingerprintOf = (name: 'primary' | 'secondary' | 'attacker' | 'expired') =>
  new X509Certificate(readFileSync(certFile(name))).fingerprint256;

interface ListedIdp {
  id: string;
  org: string;
  entity_id: string;
  jit: boolean;
  domains: string[];
  certificates: Array<{ id: string; fingerprint: string; not_after: string }>;
}

for (const kind of storeKinds()) {
  describe(`sei-auth idp … [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let tmp: string;
    let h: SamlHarness;
    const run = kind === 'sqlite' ? runBin : runCliInProcess;
    const cli = (args: string[]): Promise<CliResult> => run(args, { env: { DATABASE_URL: db.url } });
    const listed = async (): Promise<ListedIdp[]> => singleJson(await cli(['idp', 'list', '--json'])).idps as ListedIdp[];
    const entity = (name: string) => `https://${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}.example/saml`;
    const file = (name: string, text: string | Buffer) => {
      const path = join(tmp, name);
      writeFileSync(path, text);
      return path;
    };

    before(async () => {
      db = await freshDatabase(kind);
      tmp = mkdtempSync(join(tmpdir(), 'sei-auth-idp-cli-'));
      singleJson(await cli(['org', 'list', '--json'])); // migrates the fresh database
      h = await samlHarness(kind, { databaseUrl: db.url });
    });
    after(async () => {
      await h.close({ drop: false });
      await db.drop();
      rmSync(tmp, { recursive: true, force: true });
    });

    test('idp create with a valid certificate prints {"id"} and idp list shows it', async () => {
      const entityId = entity('create');
      const created = singleJson(await cli(['idp', 'create', '--entity-id', entityId, '--cert', certFile('primary'), '--json']));
      assert.deepEqual(Object.keys(created), ['id']);
      assert.match(created.id as string, /^idp_/);
      const idp = (await listed()).find((i) => i.id === created.id);
      assert.ok(idp);
      assert.equal(idp.entity_id, entityId);
      assert.equal(idp.org, 'org_default', 'without --org, the default organization');
      assert.equal(idp.jit, false);
      assert.deepEqual(idp.domains, []);
      assert.equal(idp.certificates.length, 1);
    });

    test('idp create --org --domains --jit registers a just-in-time IdP of that organization; without --json it prints text', async () => {
      const org = singleJson(await cli(['org', 'create', '--name', 'Initech', '--json'])).id as string;
      const entityId = entity('jit');
      const domain = `initech-${Date.now().toString(36)}.example`;
      const result = await cli([
        'idp',
        'create',
        '--org',
        org,
        '--entity-id',
        entityId,
        '--cert',
        certFile('primary'),
        '--domains',
        domain,
        '--jit',
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /idp_/);
      assert.throws(() => JSON.parse(result.stdout));
      const idp = (await listed()).find((i) => i.entity_id === entityId);
      assert.equal(idp?.org, org);
      assert.equal(idp?.jit, true);
      assert.deepEqual(idp?.domains, [domain]);
      const text = await cli(['idp', 'list']);
      assert.ok(text.stdout.includes(`${entityId}\t${org}\tjit\tdomains=${domain}`), text.stdout);
    });

    test('idp create --domains a,b: stored lower-case, listed sorted; --jit without --domains is refused', async () => {
      const suffix = Date.now().toString(36);
      const created = singleJson(
        await cli([
          'idp',
          'create',
          '--entity-id',
          entity('domains'),
          '--cert',
          certFile('primary'),
          '--domains',
          `Zeta-${suffix}.example, alpha-${suffix}.example,xn--bcher-kva.${suffix}.example`,
          '--json',
        ]),
      );
      const idp = (await listed()).find((i) => i.id === created.id);
      assert.deepEqual(idp?.domains, [`alpha-${suffix}.example`, `xn--bcher-kva.${suffix}.example`, `zeta-${suffix}.example`]);

      const before = (await listed()).length;
      const noDomains = await cli(['idp', 'create', '--entity-id', entity('jit-no-domains'), '--cert', certFile('primary'), '--jit']);
      assertFails(noDomains, /--jit needs --domains/);
      assert.equal((await listed()).length, before, 'nothing registered');
    });

    test('a domain held by another IdP is refused, naming the domain and its IdP; nothing is registered', async () => {
      const domain = `taken-${Date.now().toString(36)}.example`;
      const firstEntity = entity('first');
      singleJson(await cli(['idp', 'create', '--entity-id', firstEntity, '--cert', certFile('primary'), '--domains', domain, '--json']));
      const before = await listed();
      const second = entity('second');
      const result = await cli([
        'idp',
        'create',
        '--entity-id',
        second,
        '--cert',
        certFile('secondary'),
        '--domains',
        `free-${Date.now().toString(36)}.example,${domain.toUpperCase()}`,
        '--jit',
        '--json',
      ]);
      assertFails(result);
      assert.ok(result.stderr.includes(`the email domain ${domain} belongs to the identity provider ${firstEntity}`), result.stderr);
      assert.deepEqual(await listed(), before, 'neither the IdP nor its free domain was registered');
      // add-domain is refused the same way.
      const other = singleJson(await cli(['idp', 'create', '--entity-id', second, '--cert', certFile('secondary'), '--json'])) as {
        id: string;
      };
      assertFails(await cli(['idp', 'add-domain', '--idp', other.id, '--domains', domain]), /belongs to the identity provider/);
    });

    test('--domains refuses wildcards, U-labels (answering with the A-label), addresses, empty items and mixed-script A-labels', async () => {
      const create = (domains: string) =>
        cli(['idp', 'create', '--entity-id', entity('bad-domain'), '--cert', certFile('primary'), '--domains', domains]);
      assertFails(await create('*.acme.example'), /wildcards are not allowed/);
      assertFails(await create('bücher.example'), /A-labels: xn--bcher-kva\.example/);
      assertFails(await create('ada@acme.example'), /domain only/);
      assertFails(await create('acme.example,,globex.example'), /empty domain/);
      assertFails(await create('xn--pple-43d.com'), /mixes scripts/);
      assertFails(await create('localhost'), /not a domain name/);
    });

    test('idp add-domain and remove-domain; a --jit IdP keeps at least one domain', async () => {
      const suffix = Date.now().toString(36);
      const entityId = entity('add-remove');
      const { id } = singleJson(
        await cli([
          'idp',
          'create',
          '--entity-id',
          entityId,
          '--cert',
          certFile('primary'),
          '--domains',
          `one-${suffix}.example`,
          '--jit',
          '--json',
        ]),
      ) as { id: string };
      assert.deepEqual(singleJson(await cli(['idp', 'add-domain', '--idp', entityId, '--domains', `two-${suffix}.example`, '--json'])), {
        domains: [`one-${suffix}.example`, `two-${suffix}.example`],
      });
      assert.deepEqual(singleJson(await cli(['idp', 'remove-domain', '--idp', id, '--domain', `one-${suffix}.example`, '--json'])), {
        domains: [`two-${suffix}.example`],
      });
      assertFails(await cli(['idp', 'remove-domain', '--idp', id, '--domain', `two-${suffix}.example`]), /only domain of a --jit/);
      assertFails(await cli(['idp', 'remove-domain', '--idp', id, '--domain', `nope-${suffix}.example`]), /has no domain/);
      assert.deepEqual((await listed()).find((i) => i.id === id)?.domains, [`two-${suffix}.example`]);
    });

    test('a file that is not PEM is refused with a clear message', async () => {
      const result = await cli([
        'idp',
        'create',
        '--entity-id',
        entity('not-pem'),
        '--cert',
        file('notes.txt', 'this is our signing certificate, honest\n'),
        '--json',
      ]);
      assertFails(result, /exactly one PEM certificate/);
      const der = file('cert.der', new X509Certificate(readFileSync(certFile('primary'))).raw);
      assertFails(await cli(['idp', 'create', '--entity-id', entity('der'), '--cert', der]), /PEM certificate/);
    });

    test('a PEM that is not a certificate (a private key, a cert+key bundle, a public key) is refused, and the key is not echoed', async () => {
      const keyPath = join(FIXTURES, 'test-only-primary.key.pem');
      const result = await cli(['idp', 'create', '--entity-id', entity('key'), '--cert', keyPath, '--json']);
      assertFails(result, /private key/);
      const keyBody = readFileSync(keyPath, 'utf8').split('\n')[1]!;
      assert.ok(!result.stderr.includes(keyBody), 'the private key is not printed back');
      // A certificate with its key appended (a common "bundle") is refused too: the key was disclosed and the operator must hear it.
      const bundle = file('bundle.pem', readFileSync(certFile('primary'), 'utf8') + readFileSync(keyPath, 'utf8'));
      assertFails(await cli(['idp', 'create', '--entity-id', entity('key'), '--cert', bundle]), /private key/);
      // A public key is PEM but not a certificate.
      const publicKey = file(
        'public.pem',
        new X509Certificate(readFileSync(certFile('primary'))).publicKey.export({ type: 'spki', format: 'pem' }) as string,
      );
      assertFails(await cli(['idp', 'create', '--entity-id', entity('key'), '--cert', publicKey]), /exactly one PEM certificate/);
    });

    test('a CERTIFICATE block that does not parse as X.509 is refused', async () => {
      const broken = file('broken.pem', '-----BEGIN CERTIFICATE-----\nTUlJQ2dhcmJhZ2VnYXJiYWdlZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n');
      assertFails(await cli(['idp', 'create', '--entity-id', entity('broken'), '--cert', broken]), /not a valid X\.509 certificate/);
    });

    test('a certificate with an EC key is refused: the verifier checks RSA signatures only', async () => {
      const ec = join(tmp, 'ec.cert.pem');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '365',
          '-subj',
          '/CN=TEST-ONLY ec',
          '-keyout',
          join(tmp, 'ec.key.pem'),
          '-out',
          ec,
        ],
        { stdio: 'ignore' },
      );
      assertFails(await cli(['idp', 'create', '--entity-id', entity('ec'), '--cert', ec]), /EC.*RSA/);
    });

    test('two certificates in one file are refused (one file, one certificate)', async () => {
      const both = file('both.pem', readFileSync(certFile('primary'), 'utf8') + readFileSync(certFile('secondary'), 'utf8'));
      assertFails(await cli(['idp', 'create', '--entity-id', entity('both'), '--cert', both]), /exactly one PEM certificate/);
    });

    test('an expired certificate is refused, naming its expiry', async () => {
      const result = await cli(['idp', 'create', '--entity-id', entity('expired'), '--cert', certFile('expired'), '--json']);
      assertFails(result, /expired on 2021-01-01/);
    });

    test('a missing certificate file and an unknown organization are refused', async () => {
      assertFails(
        await cli(['idp', 'create', '--entity-id', entity('nofile'), '--cert', join(tmp, 'does-not-exist.pem')]),
        /cannot read the certificate file/,
      );
      assertFails(
        await cli(['idp', 'create', '--org', 'org_nope', '--entity-id', entity('noorg'), '--cert', certFile('primary')]),
        /no organization/,
      );
    });

    test('nothing was registered by the refused commands above', async () => {
      const names = (await listed()).map((i) => i.entity_id);
      for (const bad of ['not-pem', 'der', 'key', 'broken', 'ec', 'both', 'expired', 'nofile', 'noorg']) {
        assert.ok(!names.some((n) => n.startsWith(`https://${bad}-`)), `${bad} was registered: ${names.join(', ')}`);
      }
    });

    test('a duplicate entity id is refused', async () => {
      const entityId = entity('dup');
      singleJson(await cli(['idp', 'create', '--entity-id', entityId, '--cert', certFile('primary'), '--json']));
      assertFails(await cli(['idp', 'create', '--entity-id', entityId, '--cert', certFile('secondary'), '--json']), /already exists/);
      assert.equal((await listed()).filter((i) => i.entity_id === entityId).length, 1);
    });

    test('add-cert adds a second certificate; a third, or the same one again, is refused', async () => {
      const entityId = entity('add');
      const { id } = singleJson(await cli(['idp', 'create', '--entity-id', entityId, '--cert', certFile('primary'), '--json'])) as {
        id: string;
      };
      const added = singleJson(await cli(['idp', 'add-cert', '--idp', id, '--cert', certFile('secondary'), '--json']));
      assert.deepEqual(Object.keys(added).sort(), ['fingerprint', 'id']);
      assert.equal(added.fingerprint, fingerprintOf('secondary'));
      assertFails(await cli(['idp', 'add-cert', '--idp', id, '--cert', certFile('attacker'), '--json']), /at most 2 certificates/);
      assertFails(await cli(['idp', 'add-cert', '--idp', entityId, '--cert', certFile('expired')]), /expired/);
      const idp = (await listed()).find((i) => i.id === id)!;
      assert.deepEqual(idp.certificates.map((c) => c.fingerprint).sort(), [fingerprintOf('primary'), fingerprintOf('secondary')].sort());
      // Same certificate twice: refused (after removing one to make room).
      await cli(['idp', 'remove-cert', '--idp', id, '--cert', fingerprintOf('secondary')]);
      assertFails(await cli(['idp', 'add-cert', '--idp', id, '--cert', certFile('primary')]), /already registered/);
      assertFails(await cli(['idp', 'add-cert', '--idp', 'idp_nope', '--cert', certFile('secondary')]), /no identity provider/);
    });

    test('remove-cert by id and by fingerprint; the last certificate cannot be removed', async () => {
      const entityId = entity('remove');
      const { id } = singleJson(await cli(['idp', 'create', '--entity-id', entityId, '--cert', certFile('primary'), '--json'])) as {
        id: string;
      };
      const second = singleJson(await cli(['idp', 'add-cert', '--idp', id, '--cert', certFile('secondary'), '--json'])) as { id: string };

      // By id.
      const removed = singleJson(await cli(['idp', 'remove-cert', '--idp', id, '--cert', second.id, '--json']));
      assert.deepEqual(removed, { removed: second.id });
      assert.deepEqual(
        (await listed()).find((i) => i.id === id)!.certificates.map((c) => c.fingerprint),
        [fingerprintOf('primary')],
      );

      // The last one stays.
      assertFails(await cli(['idp', 'remove-cert', '--idp', id, '--cert', fingerprintOf('primary')]), /only certificate/);

      // By fingerprint (as `openssl x509 -fingerprint -sha256` prints it, any case), addressing the IdP by entity id.
      singleJson(await cli(['idp', 'add-cert', '--idp', entityId, '--cert', certFile('secondary'), '--json']));
      singleJson(await cli(['idp', 'remove-cert', '--idp', entityId, '--cert', fingerprintOf('primary').toLowerCase(), '--json']));
      assert.deepEqual(
        (await listed()).find((i) => i.id === id)!.certificates.map((c) => c.fingerprint),
        [fingerprintOf('secondary')],
      );

      assertFails(await cli(['idp', 'remove-cert', '--idp', id, '--cert', 'crt_nope']), /no certificate/);
    });

    test('idp list --json shows each certificate with its SHA-256 fingerprint and not_after', async () => {
      const entityId = entity('list');
      const { id } = singleJson(await cli(['idp', 'create', '--entity-id', entityId, '--cert', certFile('primary'), '--json'])) as {
        id: string;
      };
      const idp = (await listed()).find((i) => i.id === id)!;
      assert.deepEqual(Object.keys(idp).sort(), [
        'certificates',
        'created_at',
        'domains',
        'entity_id',
        'id',
        'jit',
        'org',
        'sign_requests',
        'sso_url',
      ]);
      const [cert] = idp.certificates;
      assert.deepEqual(Object.keys(cert!).sort(), ['fingerprint', 'id', 'not_after']);
      assert.match(cert!.id, /^crt_/);
      assert.match(cert!.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.equal(cert!.fingerprint, fingerprintOf('primary'));
      const x509 = new X509Certificate(readFileSync(certFile('primary')));
      assert.equal(cert!.not_after, new Date(x509.validTo).toISOString());
      // The PEM itself is not listed.
      const text = JSON.stringify(await listed());
      assert.ok(!text.includes('BEGIN CERTIFICATE'));
    });

    test('rotation end to end: the new key is accepted only after add-cert, the old one refused after remove-cert', async () => {
      const entityId = entity('rotation');
      const email = `rotation-${Date.now()}@example.com`;
      const s = await h.seed({ email });
      const { id } = singleJson(await cli(['idp', 'create', '--entity-id', entityId, '--cert', certFile('primary'), '--json'])) as {
        id: string;
      };
      const signedBy = (name: 'primary' | 'secondary') =>
        b64(responseWithSignedAssertion({ now: h.clock.now(), idp: testIdp(name), issuer: entityId, email }));
      const login = (name: 'primary' | 'secondary') => samlLogin(h, s, 'SAMLResponse', signedBy(name));

      assertSeedTokenResponse(await login('primary'), email);
      await assertSamlRejected(h, await login('secondary'), 'signature_invalid');

      // Step 1: register the successor. Both keys work during the switch-over.
      singleJson(await cli(['idp', 'add-cert', '--idp', id, '--cert', certFile('secondary'), '--json']));
      assertSeedTokenResponse(await login('secondary'), email);
      assertSeedTokenResponse(await login('primary'), email);

      // Step 2: the IdP signs with the new key only; remove the old certificate.
      singleJson(await cli(['idp', 'remove-cert', '--idp', id, '--cert', fingerprintOf('primary'), '--json']));
      await assertSamlRejected(h, await login('primary'), 'signature_invalid');
      assertSeedTokenResponse(await login('secondary'), email);
    });
  });
}

describe('start-up warning for an IdP certificate close to expiry', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sei-auth-idp-soon-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /**
   * The server's log lines once start-up is complete. The expiry warnings are written after the
   * server listens (so possibly after it answers /readyz) and before the first maintenance run,
   * whose debug line marks the end of start-up.
   */
  async function startupLines(server: ServerProcess): Promise<Array<Record<string, unknown>>> {
    const parse = () =>
      server
        .output()
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const deadline = Date.now() + 10_000;
    while (!parse().some((l) => l.msg === 'maintenance' || l.msg === 'maintenance failed; will retry')) {
      if (Date.now() > deadline) throw new Error(`start-up did not complete; output:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return parse();
  }

  /** A self-signed certificate valid for `days` from now, made with openssl in the temp dir. */
  function shortLivedCert(days: number): string {
    const cert = join(tmp, `soon-${days}.cert.pem`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        String(days),
        '-subj',
        '/CN=TEST-ONLY soon',
        '-keyout',
        join(tmp, `soon-${days}.key.pem`),
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return cert;
  }

  test('a certificate expiring within 30 days is registered, and the server warns about it at start-up', async () => {
    const db = await freshDatabase('sqlite');
    const soon = 'https://soon.idp.test.example/saml';
    const later = 'https://later.idp.test.example/saml';
    try {
      const cert = shortLivedCert(10);
      const created = singleJson(
        await runBin(['idp', 'create', '--entity-id', soon, '--cert', cert, '--json'], { env: { DATABASE_URL: db.url } }),
      );
      singleJson(
        await runBin(['idp', 'create', '--entity-id', later, '--cert', certFile('primary'), '--json'], { env: { DATABASE_URL: db.url } }),
      );
      const list = singleJson(await runBin(['idp', 'list', '--json'], { env: { DATABASE_URL: db.url } })).idps as ListedIdp[];
      const soonCert = list.find((i) => i.id === created.id)!.certificates[0]!;

      const server = await startServerProcess({ DATABASE_URL: db.url, LOG_LEVEL: 'debug' });
      try {
        const lines = await startupLines(server);
        const warnings = lines.filter((l) => l.level === 40 && typeof l.msg === 'string' && /expires on/.test(l.msg));
        assert.equal(warnings.length, 1, `expected exactly one expiry warning; output:\n${server.output()}`);
        const [warning] = warnings;
        assert.equal(warning!.idp, soon);
        assert.equal(warning!.certificate, soonCert.id);
        assert.equal(warning!.not_after, soonCert.not_after);
        assert.match(warning!.msg as string, /idp add-cert/, 'it says what to do');
        assert.ok(!server.output().includes(later), 'a certificate valid for years is not mentioned');
      } finally {
        await server.stop();
      }
    } finally {
      await db.drop();
    }
  });

  test('a server whose certificates are all far from expiry logs no such warning', async () => {
    const db = await freshDatabase('sqlite');
    try {
      singleJson(
        await runBin(['idp', 'create', '--entity-id', 'https://fine.idp.test.example/saml', '--cert', certFile('primary'), '--json'], {
          env: { DATABASE_URL: db.url },
        }),
      );
      const server = await startServerProcess({ DATABASE_URL: db.url, LOG_LEVEL: 'debug' });
      try {
        const lines = await startupLines(server);
        assert.ok(
          lines.some((l) => typeof l.msg === 'string' && l.msg.includes('listening on')),
          'start-up was logged',
        );
        assert.ok(!lines.some((l) => l.level === 40 && /expires on/.test(String(l.msg))), server.output());
      } finally {
        await server.stop();
      }
    } finally {
      await db.drop();
    }
  });
});
