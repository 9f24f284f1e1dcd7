/**
 * One normalisation of email addresses, NFKC then lower-case, and the creation rules built on it
 * (issue #13 item 3): `user create` refuses an address whose local part or domain changes under
 * NFKC or holds confusable characters (a letter outside ASCII, a mixed-script A-label), with a
 * message that says why; ordinary addresses, IDNA A-labels included, keep working, and a
 * compatibility spelling of an existing address finds that address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkIdpDomain, checkNewEmail, EmailRefused, emailKey } from '../../src/accounts/email.ts';
import { AdminError } from '../../src/common/admin-error.ts';
import { createHarness, type Harness, passwordLogin, storeKinds } from '../support/harness.ts';
import { assertFails, runCliInProcess } from './support.ts';

const tag = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Refused addresses and what the message must mention. */
const REFUSED: ReadonlyArray<[string, string, RegExp]> = [
  ['fullwidth a (U+FF41)', '\uff41da-{t}@example.com', /NFKC/],
  ['Kelvin sign (U+212A) in the domain', 'ada-{t}@exam\u212Aple.com', /NFKC/],
  ['Cyrillic a (U+0430) in the local part', '\u0430da-{t}@example.com', /outside ASCII/],
  ['Greek omicron (U+03BF) in the local part', 'b\u03bfb-{t}@example.com', /outside ASCII/],
  ['Cyrillic a in the domain (a U-label)', 'ada-{t}@\u0430pple.com', /outside ASCII|A-label/],
  ['mixed-script A-label (Cyrillic a + pple)', 'ada-{t}@xn--pple-43d.com', /mixes scripts/],
  ['fullwidth @ (U+FF20)', 'ada-{t}\uff20example.com', /NFKC/],
  ['a quoted local part', '"ada {t}"@example.com', /before @/],
  ['a double dot', 'ada..{t}@example.com', /before @/],
  ['a domain without a dot', 'ada-{t}@localhost', /not a domain name/],
  ['an IP address', 'ada-{t}@127.0.0.1', /IP address/],
  ['an A-label that does not decode', 'ada-{t}@xn--zz.example', /A-label/],
];

const ACCEPTED: readonly string[] = [
  'ada-{t}@example.com',
  'Ada.Lovelace+{t}@Example.COM',
  "o'brien_{t}@mail.example.org",
  'ada-{t}@xn--bcher-kva.example', // bücher.example, single-script
  'ada-{t}@xn--wgv71a119e.example', // 日本語.example (Han)
];

describe('email rules (src/accounts/email.ts)', () => {
  test('the one normalisation: NFKC then lower-case, trimmed', () => {
    assert.equal(emailKey('  Ada@Example.COM '), 'ada@example.com');
    assert.equal(emailKey('\uff41da@\u212Aelvin.example'), 'ada@kelvin.example');
    // A Cyrillic letter is not a compatibility form of a Latin one: the key differs (and creation refuses it).
    assert.notEqual(emailKey('\u0430da@example.com'), 'ada@example.com');
  });

  test('checkNewEmail refuses compatibility forms and confusable characters, with the reason', () => {
    for (const [what, template, reason] of REFUSED) {
      assert.throws(
        () => checkNewEmail(template.replace('{t}', 'x')),
        (e: unknown) => e instanceof EmailRefused && reason.test(e.message),
        what,
      );
    }
    for (const template of ACCEPTED) assert.equal(checkNewEmail(` ${template.replace('{t}', 'x')} `), template.replace('{t}', 'x'));
  });

  test('checkIdpDomain: lower-case ASCII or A-labels, no wildcards; a U-label is answered with its A-label', () => {
    assert.equal(checkIdpDomain('Acme.Example'), 'acme.example');
    assert.equal(checkIdpDomain('xn--bcher-kva.example'), 'xn--bcher-kva.example');
    const refused: Array<[string, RegExp]> = [
      ['*.acme.example', /wildcard/],
      ['bücher.example', /xn--bcher-kva\.example/],
      ['ada@acme.example', /domain only/],
      ['', /empty/],
      ['acme', /not a domain name/],
      ['-acme.example', /not a domain name/],
      ['xn--pple-43d.com', /mixes scripts/],
      ['ab--cd.example', /A-label/],
    ];
    for (const [domain, reason] of refused) {
      assert.throws(
        () => checkIdpDomain(domain),
        (e: unknown) => e instanceof EmailRefused && reason.test(e.message),
        domain,
      );
    }
  });
});

for (const kind of storeKinds()) {
  describe(`user create: email rules [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind });
    });
    after(() => h.close());

    test('a fullwidth, Kelvin-sign or Cyrillic spelling is refused and nothing is stored', async () => {
      for (const [what, template, reason] of REFUSED) {
        const email = template.replace('{t}', tag());
        await assert.rejects(
          h.services.accounts.createUser({ email, password: 'correct horse battery' }),
          (e: unknown) => e instanceof AdminError && /not a valid email address/.test(e.message) && reason.test(e.message),
          what,
        );
        assert.equal(await h.store.users.findByEmail(email), undefined, what);
      }
    });

    test('the CLI says why', async () => {
      const result = await runCliInProcess(['user', 'create', '--email', `ada-${tag()}@exam\u212Aple.com`, '--password-stdin', '--json'], {
        env: { DATABASE_URL: h.databaseUrl },
        input: 'long-enough-pw',
      });
      assertFails(result, /NFKC/);
    });

    test('ordinary addresses keep working, and sign in by password in any case', async () => {
      for (const template of ACCEPTED) {
        const email = template.replace('{t}', tag());
        const created = await h.services.accounts.createUser({ email, password: 'correct horse battery' });
        assert.equal(created.email, email, 'stored as typed');
        const s = await h.seed();
        const res = await passwordLogin(h, { ...s, email: email.toUpperCase(), password: 'correct horse battery', userId: created.id });
        assert.equal(res.statusCode, 200, `${email}: ${res.body}`);
      }
    });

    test('a compatibility spelling finds the existing user and cannot create a second one', async () => {
      const email = `ada-${tag()}@example.com`;
      const created = await h.services.accounts.createUser({ email, password: 'correct horse battery' });
      const fullwidth = `\uff41${email.slice(1)}`;
      assert.equal((await h.store.users.findByEmail(fullwidth))?.id, created.id);
      await assert.rejects(h.services.accounts.createUser({ email: fullwidth }), AdminError);
      assert.equal((await h.store.users.list()).filter((u) => emailKey(u.email) === emailKey(email)).length, 1);
    });
  });
}
