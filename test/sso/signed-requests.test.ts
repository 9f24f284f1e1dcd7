/**
 * Signed AuthnRequests, per IdP (issue #16 item 3, "signing optional per IdP"): samlify plays an IdP
 * that wants signed requests (wantAuthnRequestsSigned) and reads our SP metadata like a real IdP;
 * its parseLoginRequest with the redirect binding verifies the query signature (saml-bindings
 * §3.4.4.1). Also: an IdP without the flag gets no signature, the SP private key is stored sealed,
 * the flag round-trips through the CLI, and metadata with WantAuthnRequestsSigned="true" sets it.
 */
import assert from 'node:assert/strict';
import { createVerify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IdpService } from '../../src/idps/idp-service.ts';
import { openPrivateJwk } from '../../src/keys/key-sealing.ts';
import { SP_SIGNING_SECRET, SpSigningKey } from '../../src/keys/sp-signing-key.ts';
import { type CliResult, runBin, runCliInProcess, singleJson } from '../core/support.ts';
import { createHarness, freshDatabase, type Harness, type Seeded, storeKinds, TEST_KEY_ENCRYPTION_KEY } from '../support/harness.ts';
import { testIdp } from '../support/test-idp.ts';
import { registerSsoIdp, startSignIn } from './support.ts';

/** The part of samlify used here (untyped on purpose, see browser-sso.test.ts). */
interface SamlifyIdp {
  parseLoginRequest(sp: unknown, binding: 'redirect', req: { query: Record<string, string>; octetString: string }): Promise<unknown>;
  getMetadata(): string;
}
interface Samlify {
  setSchemaValidator(validator: { validate(xml: string): Promise<string> }): void;
  ServiceProvider(settings: { metadata: string }): unknown;
  IdentityProvider(settings: Record<string, unknown>): SamlifyIdp;
}
const samlify = createRequire(import.meta.url)('samlify') as Samlify;
samlify.setSchemaValidator({ validate: async () => 'skipped' });

const SIG_ALG = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const KEK = Buffer.alloc(32, 7);

function samlifyIdp(o: { wantSigned: boolean; ssoUrl: string }): SamlifyIdp {
  return samlify.IdentityProvider({
    entityID: testIdp().entityId,
    privateKey: testIdp().keyPem,
    signingCert: testIdp().certPem,
    wantAuthnRequestsSigned: o.wantSigned,
    nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
    singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: o.ssoUrl }],
  });
}

/** What an IdP does with the redirect: the query as received, and the octets before `&Signature=`. */
function asReceived(url: URL): { query: Record<string, string>; octetString: string } {
  const raw = url.search.slice(1);
  const at = raw.indexOf('&Signature=');
  return { query: Object.fromEntries(url.searchParams), octetString: at === -1 ? raw : raw.slice(0, at) };
}

for (const kind of storeKinds()) {
  describe(`signed AuthnRequests (HTTP-Redirect binding) [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    const signedDomain = `signed-${kind}.test`;
    const plainDomain = `plain-${kind}.test`;
    const signedSso = 'https://idp-signed.test.example/sso';
    const plainSso = 'https://idp-plain.test.example/sso';

    before(async () => {
      h = await createHarness({ kind, issuer: 'https://auth.example.com' });
      s = await h.seed({ email: `ada@${signedDomain}` });
      await registerSsoIdp(h, { domains: [signedDomain], ssoUrl: signedSso, signRequests: true });
      await registerSsoIdp(h, {
        domains: [plainDomain],
        ssoUrl: plainSso,
        idp: testIdp('secondary'),
      });
    });
    after(async () => h?.close());

    const metadata = async () => (await h.app.inject({ method: 'GET', url: '/saml/metadata' })).body;

    test('the SP metadata carries the signing certificate and AuthnRequestsSigned="true"', async () => {
      const xml = await metadata();
      assert.match(xml, /AuthnRequestsSigned="true"/);
      const der = /<md:KeyDescriptor use="signing">.*<ds:X509Certificate>([A-Za-z0-9+/=]+)<\/ds:X509Certificate>/.exec(xml)?.[1];
      assert.ok(der, 'KeyDescriptor use="signing" with an X509Certificate');
      const cert = new X509Certificate(Buffer.from(der, 'base64'));
      assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
      assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
      assert.ok(cert.verify(cert.publicKey), 'self-signed');
      assert.equal(await metadata(), xml, 'made once: the same certificate on every request');
    });

    test('an IdP that wants signed requests verifies ours (samlify, redirect binding); the octets are SAMLRequest&RelayState&SigAlg', async () => {
      const idp = samlifyIdp({ wantSigned: true, ssoUrl: signedSso });
      const sp = samlify.ServiceProvider({ metadata: await metadata() });
      const started = await startSignIn(h, s, `ada@${signedDomain}`);
      const url = started.redirectUrl;
      assert.equal(url.searchParams.get('SigAlg'), SIG_ALG);
      assert.ok(url.searchParams.get('Signature'));
      assert.deepEqual([...url.searchParams.keys()], ['SAMLRequest', 'RelayState', 'SigAlg', 'Signature']);
      const parsed = (await idp.parseLoginRequest(sp, 'redirect', asReceived(url))) as { extract: { request: { id: string } } };
      assert.equal(parsed.extract.request.id, started.requestId);
    });

    test('a tampered query fails the signature check', async () => {
      const idp = samlifyIdp({ wantSigned: true, ssoUrl: signedSso });
      const sp = samlify.ServiceProvider({ metadata: await metadata() });
      const { redirectUrl } = await startSignIn(h, s, `ada@${signedDomain}`);
      const received = asReceived(redirectUrl);
      // Another RelayState in the signed octets (the attacker swaps the pending sign-in).
      const other = `${received.query.RelayState!.slice(0, -2)}xx`;
      const tampered = {
        query: { ...received.query, RelayState: other },
        octetString: received.octetString.replace(`RelayState=${received.query.RelayState}`, `RelayState=${other}`),
      };
      await assert.rejects(idp.parseLoginRequest(sp, 'redirect', tampered), /ERR_FAILED_MESSAGE_SIGNATURE_VERIFICATION/);
      // The request itself exchanged for another one signed by nobody.
      const second = asReceived((await startSignIn(h, s, `ada@${signedDomain}`)).redirectUrl);
      const swapped = {
        query: { ...received.query, SAMLRequest: second.query.SAMLRequest! },
        octetString: `SAMLRequest=${encodeURIComponent(second.query.SAMLRequest!)}${received.octetString.slice(received.octetString.indexOf('&RelayState='))}`,
      };
      await assert.rejects(idp.parseLoginRequest(sp, 'redirect', swapped), /ERR_FAILED_MESSAGE_SIGNATURE_VERIFICATION/);
      // And the unsigned form of it is refused by an IdP that wants signatures.
      await assert.rejects(
        idp.parseLoginRequest(sp, 'redirect', {
          query: { SAMLRequest: received.query.SAMLRequest!, RelayState: received.query.RelayState! },
          octetString: '',
        }),
        /ERR_MISSING_SIG_ALG/,
      );
    });

    test('the signature verifies with node:crypto against the metadata certificate (RSA-SHA256 over the exact octets)', async () => {
      const der = /<ds:X509Certificate>([^<]+)</.exec(await metadata())![1]!;
      const cert = new X509Certificate(Buffer.from(der, 'base64'));
      const { redirectUrl } = await startSignIn(h, s, `ada@${signedDomain}`);
      const { octetString, query } = asReceived(redirectUrl);
      assert.match(
        octetString,
        /^SAMLRequest=[^&]+&RelayState=[A-Za-z0-9_-]{43}&SigAlg=http%3A%2F%2Fwww\.w3\.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256$/,
      );
      const ok = createVerify('sha256').update(octetString).verify(cert.publicKey, Buffer.from(query.Signature!, 'base64'));
      assert.equal(ok, true);
    });

    test('an IdP without the flag gets no SigAlg and no Signature, and samlify (not wanting them) accepts it', async () => {
      const user = await h.seed({ email: `bob@${plainDomain}` });
      const started = await startSignIn(h, user, `bob@${plainDomain}`);
      assert.deepEqual([...started.redirectUrl.searchParams.keys()], ['SAMLRequest', 'RelayState']);
      const idp = samlifyIdp({ wantSigned: false, ssoUrl: plainSso });
      const sp = samlify.ServiceProvider({ metadata: await metadata() });
      const parsed = (await idp.parseLoginRequest(sp, 'redirect', asReceived(started.redirectUrl))) as {
        extract: { request: { id: string } };
      };
      assert.equal(parsed.extract.request.id, started.requestId);
    });

    test('the private key is stored sealed: the row holds the certificate, never the PEM private key', async () => {
      await metadata();
      const raw = await h.store.serverSecrets.find(SP_SIGNING_SECRET);
      assert.ok(raw);
      assert.doesNotMatch(raw, /PRIVATE KEY/);
      const stored = JSON.parse(raw) as { certificate: string; private_key_sealed: string };
      assert.match(stored.certificate, /^-----BEGIN CERTIFICATE-----/);
      assert.match(stored.private_key_sealed, /^v1\./);
      // It opens with the server's key-encryption key (bound to its name), and with nothing else;
      // no line of the PEM it holds appears in the row.
      const pem = openPrivateJwk({ key: TEST_KEY_ENCRYPTION_KEY, source: 'test' }, SP_SIGNING_SECRET, stored.private_key_sealed);
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
      for (const line of pem.split('\n').filter((l) => l.length > 20)) assert.ok(!raw.includes(line));
      assert.throws(() => openPrivateJwk({ key: KEK, source: 'test' }, SP_SIGNING_SECRET, stored.private_key_sealed));
      assert.throws(() => openPrivateJwk({ key: TEST_KEY_ENCRYPTION_KEY, source: 'test' }, 'another_name', stored.private_key_sealed));
    });

    test('made once across instances: concurrent first uses on a fresh database agree on one key', async () => {
      const other = await createHarness({ kind, issuer: 'https://race.example.com' });
      try {
        const make = () =>
          new SpSigningKey({
            store: other.store,
            clock: other.clock,
            issuer: 'https://race.example.com',
            keyEncryptionKey: () => ({ key: KEK, source: 'test' }),
          });
        const results = await Promise.all([make().get(), make().get(), make().get()]);
        assert.equal(new Set(results.map((r) => r.certificatePem)).size, 1);
        for (const r of results) assert.ok(new X509Certificate(r.certificatePem).checkPrivateKey(r.privateKey));
      } finally {
        await other.close();
      }
    });

    test('IdP metadata with WantAuthnRequestsSigned="true" sets the flag; without it, it stays off', async () => {
      const service = new IdpService({ store: h.store, clock: h.clock });
      const wanting = samlifyIdp({ wantSigned: true, ssoUrl: 'https://idp-meta.test.example/sso' }).getMetadata();
      assert.match(wanting, /WantAuthnRequestsSigned="true"/);
      const relabel = (xml: string, entity: string) => xml.replace(/entityID="[^"]+"/, `entityID="${entity}"`);
      const a = await service.createFromMetadata({ metadataXml: relabel(wanting, `https://meta-a-${kind}.example/saml`) });
      assert.equal((await h.store.idps.find(a.id))?.signRequests, true);
      const plain = samlifyIdp({ wantSigned: false, ssoUrl: 'https://idp-meta.test.example/sso' }).getMetadata();
      const b = await service.createFromMetadata({ metadataXml: relabel(plain, `https://meta-b-${kind}.example/saml`) });
      assert.equal((await h.store.idps.find(b.id))?.signRequests, false);
    });
  });

  describe(`sei-auth idp … --sign-requests [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let tmp: string;
    const run = kind === 'sqlite' ? runBin : runCliInProcess;
    const cli = (args: string[]): Promise<CliResult> => run(args, { env: { DATABASE_URL: db.url } });
    const signFlag = async (id: string) =>
      (singleJson(await cli(['idp', 'list', '--json'])).idps as Array<{ id: string; sign_requests: boolean }>).find((i) => i.id === id)
        ?.sign_requests;

    before(async () => {
      db = await freshDatabase(kind);
      tmp = mkdtempSync(join(tmpdir(), 'sei-auth-sign-requests-'));
    });
    after(async () => {
      await db.drop();
      rmSync(tmp, { recursive: true, force: true });
    });

    test('create --sign-requests, then set-sign-requests --off / --on, as idp list shows', async () => {
      const cert = join(tmp, 'idp.pem');
      writeFileSync(cert, testIdp().certPem);
      const created = singleJson(
        await cli([
          'idp',
          'create',
          '--entity-id',
          `https://cli-${kind}.example/saml`,
          '--cert',
          cert,
          '--sso-url',
          'https://idp.cli.example/sso',
          '--sign-requests',
          '--json',
        ]),
      );
      const id = created.id as string;
      assert.equal(await signFlag(id), true);
      assert.deepEqual(singleJson(await cli(['idp', 'set-sign-requests', '--idp', id, '--off', '--json'])), { id, sign_requests: false });
      assert.equal(await signFlag(id), false);
      singleJson(await cli(['idp', 'set-sign-requests', '--idp', `https://cli-${kind}.example/saml`, '--on', '--json']));
      assert.equal(await signFlag(id), true);
      const neither = await cli(['idp', 'set-sign-requests', '--idp', id]);
      assert.notEqual(neither.code, 0);
      assert.match(neither.stderr, /exactly one of --on or --off/);
      const other = singleJson(await cli(['idp', 'create', '--entity-id', `https://cli2-${kind}.example/saml`, '--cert', cert, '--json']));
      assert.equal(await signFlag(other.id as string), false, 'off by default');
    });
  });
}
