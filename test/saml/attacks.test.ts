/** Attacks on signature verification, XML parsing and decoding. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SamlRejection, verifySamlBearer } from '../../src/saml/verify-saml.ts';
import {
  assertionXml,
  b64,
  DEFAULT_EMAIL,
  NS,
  responseWithSignedAssertion,
  responseXml,
  signElement,
  signedAssertion,
  signedResponse,
  testIdp,
  unsignedResponse,
} from '../support/test-idp.ts';
import {
  ATTACKER_EMAIL,
  accepts,
  assertionOf,
  assertRejectedOrOriginal,
  input,
  NOW,
  outcome,
  parseXml,
  rejects,
  rejectsEncoded,
  serialize,
  setNameId,
  signatureOf,
} from './harness.ts';
import { adviceWrap, copiedSignature, xsw1, xsw2, xsw3, xsw4, xsw5, xsw6, xsw7, xsw8 } from './xsw.ts';

const ID = '_orig_assertion';

describe('signature attacks', () => {
  it('unsigned Response is refused', async () => {
    await rejects(unsignedResponse({ now: NOW }), 'signature_missing');
  });

  it('unsigned bare Assertion is refused', async () => {
    await rejects(assertionXml({ now: NOW }), 'signature_missing', { form: 'assertion' });
  });

  it('signed by another key with its certificate embedded in KeyInfo', async () => {
    const forged = responseWithSignedAssertion({
      now: NOW,
      idp: testIdp('attacker'),
      issuer: testIdp().entityId,
      email: ATTACKER_EMAIL,
      includeKeyInfoCert: true,
    });
    assert.ok(forged.includes('X509Certificate'));
    await rejects(forged, 'signature_invalid');
    await rejects(
      signedResponse({ now: NOW, idp: testIdp('attacker'), issuer: testIdp().entityId, email: ATTACKER_EMAIL }),
      'signature_invalid',
    );
  });

  it('a key that rotated out is refused (secondary signs, only primary registered)', async () => {
    await rejects(responseWithSignedAssertion({ now: NOW, idp: testIdp('secondary'), issuer: testIdp().entityId }), 'signature_invalid');
  });

  it('tampered SignatureValue', async () => {
    const xml = responseWithSignedAssertion({ now: NOW });
    const tampered = xml.replace(/<ds:SignatureValue>(.)/, (_m, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`);
    assert.notEqual(tampered, xml);
    await rejects(tampered, 'signature_invalid');
  });

  it('NameID changed after signing (signed assertion)', async () => {
    const xml = responseWithSignedAssertion({ now: NOW }).replace(DEFAULT_EMAIL, ATTACKER_EMAIL);
    await rejects(xml, 'signature_invalid');
  });

  it('NameID changed after signing (signed response)', async () => {
    const xml = signedResponse({ now: NOW }).replace(DEFAULT_EMAIL, ATTACKER_EMAIL);
    await rejects(xml, 'signature_invalid');
  });

  it('invalid Assertion signature inside a validly signed Response', async () => {
    // The IdP signs the Response around an assertion whose own signature was broken beforehand.
    const broken = signedAssertion({ now: NOW, id: ID }).replace(
      /<ds:SignatureValue>(.)/,
      (_m, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`,
    );
    const response = responseXml(broken, { now: NOW, responseId: '_resp' });
    await rejects(signElement(response, '_resp'), 'signature_invalid');
  });

  it('Assertion signed by an attacker inside a Response signed by the IdP', async () => {
    const evil = signedAssertion({ now: NOW, id: ID, idp: testIdp('attacker'), issuer: testIdp().entityId, email: ATTACKER_EMAIL });
    const response = responseXml(evil, { now: NOW, responseId: '_resp' });
    await rejects(signElement(response, '_resp'), 'signature_invalid');
  });

  it('signature whose Reference points at another element than its parent', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, id: ID });
    const doc = parseXml(xml);
    doc.documentElement!.setAttribute('ID', '_resp_id');
    const retargeted = serialize(doc).replace(`URI="#${ID}"`, 'URI="#_resp_id"');
    await rejects(retargeted, 'signature_invalid');
  });

  it('a Signature with a ds:Object is refused', async () => {
    const doc = parseXml(responseWithSignedAssertion({ now: NOW }));
    signatureOf(assertionOf(doc)).appendChild(doc.createElementNS(NS.ds, 'ds:Object'));
    await rejects(serialize(doc), 'signature_invalid');
  });

  it('an algorithm URI smuggled inside CanonicalizationMethod is refused', async () => {
    // xml-crypto locates SignatureMethod by a descendant search; the policy must see the same one.
    const xml = responseWithSignedAssertion({ now: NOW }).replace(
      '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>',
      '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/></ds:CanonicalizationMethod>',
    );
    await rejects(xml, 'signature_invalid');
  });

  it('an XSLT transform is refused', async () => {
    const xml = responseWithSignedAssertion({ now: NOW }).replace(
      '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>',
      '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>',
    );
    await rejects(xml, 'signature_invalid');
  });

  it('a stray Signature elsewhere in the document is refused', async () => {
    const doc = parseXml(responseWithSignedAssertion({ now: NOW }));
    const copy = signatureOf(assertionOf(doc)).cloneNode(true);
    doc.documentElement!.appendChild(copy);
    await rejects(serialize(doc), 'signature_invalid');
  });
});

describe('XML signature wrapping (XSW): refused, or only the signed identity comes out', () => {
  const signedResp = () => signedResponse({ now: NOW, id: ID });
  const signedAsrt = () => responseWithSignedAssertion({ now: NOW, id: ID });

  const cases: Array<[string, () => string, string]> = [
    ['XSW1: evil Response at root, signed original inside the Signature', () => xsw1(signedResp()), 'response'],
    ['XSW1 (evil keeps the original IDs)', () => xsw1(signedResp(), false), 'response'],
    ['XSW2: evil Response at root, signed original detached before the Signature', () => xsw2(signedResp()), 'response'],
    ['XSW2 (evil keeps the original IDs)', () => xsw2(signedResp(), false), 'response'],
    ['XSW3: evil Assertion before the signed one', () => xsw3(signedAsrt()), 'response'],
    ['XSW3 (same ID)', () => xsw3(signedAsrt(), false), 'response'],
    ['XSW4: evil Assertion wrapping the signed one', () => xsw4(signedAsrt()), 'response'],
    ['XSW4 (same ID)', () => xsw4(signedAsrt(), false), 'response'],
    ['XSW5: signed Assertion modified in place, unsigned original appended', () => xsw5(signedAsrt()), 'response'],
    ['XSW5 (evil renamed)', () => xsw5(signedAsrt(), true), 'response'],
    ['XSW6: modified Assertion keeps the Signature, original inside the Signature', () => xsw6(signedAsrt()), 'response'],
    ['XSW6 (evil renamed)', () => xsw6(signedAsrt(), true), 'response'],
    ['XSW7: signed Assertion moved into samlp:Extensions', () => xsw7(signedAsrt()), 'response'],
    ['XSW7 (same ID)', () => xsw7(signedAsrt(), false), 'response'],
    ['XSW8: original inside a ds:Object of the copied Signature', () => xsw8(signedAsrt()), 'response'],
    ['XSW8 (evil renamed)', () => xsw8(signedAsrt(), true), 'response'],
    [
      'bare Assertion: signed original hidden in an evil Assertion Advice',
      () => adviceWrap(signedAssertion({ now: NOW, id: ID })),
      'assertion',
    ],
    ['copied Signature on an evil Assertion (original removed)', () => copiedSignature(signedAsrt()), 'response'],
    ['copied Signature on an evil Assertion with the original ID', () => copiedSignature(signedAsrt(), false), 'response'],
  ];

  for (const [name, build, form] of cases) {
    it(name, async () => {
      const xml = build();
      assert.ok(xml.includes(ATTACKER_EMAIL), 'the attack document names the attacker');
      const result = await outcome(xml, { form: form as 'response' | 'assertion' });
      assertRejectedOrOriginal(result, { assertionId: ID });
    });
  }

  it('every XSW variant is in fact refused outright (none even yields the original)', async () => {
    for (const [name, build, form] of cases) {
      const result = await outcome(build(), { form: form as 'response' | 'assertion' });
      assert.ok('rejected' in result, `${name} was accepted`);
    }
  });
});

describe('NameID comment injection (CVE-2017-11428)', () => {
  it('a comment inserted after signing does not truncate the NameID', async () => {
    // The attacker owns victim@x.com.evil.com at the IdP and splits the signed value with a
    // comment, which canonicalization ignores, so the signature still verifies.
    const xml = responseWithSignedAssertion({ now: NOW, id: ID, email: 'victim@x.com.evil.com' }).replace(
      'victim@x.com.evil.com',
      'victim@x.com<!---->.evil.com',
    );
    const result = await outcome(xml);
    assert.ok('accepted' in result ? result.accepted.email !== 'victim@x.com' : true);
    assertRejectedOrOriginal(result, { assertionId: ID, email: 'victim@x.com.evil.com' });
  });

  it('a comment the IdP itself signed inside the NameID does not truncate it either', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, id: ID, nameIdInnerXml: 'victim@x.com<!---->.evil.com' });
    const result = await outcome(xml);
    assert.ok(!('accepted' in result) || result.accepted.email === 'victim@x.com.evil.com');
  });

  it('the same trick in a signed Response', async () => {
    const xml = signedResponse({ now: NOW, id: ID, email: 'victim@x.com.evil.com' }).replace(
      'victim@x.com.evil.com',
      'victim@x.com<!-- -->.evil.com',
    );
    assertRejectedOrOriginal(await outcome(xml), { assertionId: ID, email: 'victim@x.com.evil.com' });
  });
});

describe('XML parsing attacks', () => {
  const body = () => responseWithSignedAssertion({ now: NOW });

  it('XXE: DOCTYPE with an external entity', async () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${body().replace(DEFAULT_EMAIL, '&xxe;')}`;
    await rejects(xml, 'doctype_forbidden');
  });

  it('XXE: external parameter entity / external DTD subset', async () => {
    await rejects(`<!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd">${body()}`, 'doctype_forbidden');
    await rejects(`<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p">%p;]>${body()}`, 'doctype_forbidden');
  });

  it('XInclude of an external document', async () => {
    const xml = body().replace(
      '<samlp:Status>',
      '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/><samlp:Status>',
    );
    await rejects(xml, 'doctype_forbidden');
  });

  it('billion laughs (entity expansion)', async () => {
    const entities = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i++) entities.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    const xml = `<?xml version="1.0"?><!DOCTYPE lolz [${entities.join('')}]>${body().replace(DEFAULT_EMAIL, '&lol9;')}`;
    await rejects(xml, 'doctype_forbidden');
  });

  it('a DOCTYPE in any spelling or position is refused before parsing', async () => {
    await rejects(`<!-- hi -->\n<!doctype r>${body()}`, 'doctype_forbidden');
    await rejects(body().replace('<saml:Issuer>', '<!ELEMENT x ANY><saml:Issuer>'), 'doctype_forbidden');
  });

  it('CPU exhaustion: deep nesting, element, comment and attribute floods are refused before xml-crypto', async () => {
    const inSigned = (junk: string) => body().replace('<saml:AuthnStatement', `<saml:Advice>${junk}</saml:Advice><saml:AuthnStatement`);
    const inEnvelope = (junk: string) => body().replace('<samlp:Status>', `<samlp:Extensions>${junk}</samlp:Extensions><samlp:Status>`);
    await rejects(inSigned('<a>'.repeat(40) + '</a>'.repeat(40)), 'too_large');
    await rejects(inEnvelope('<a>'.repeat(3000) + '</a>'.repeat(3000)), 'too_large');
    await rejects(inEnvelope('<a/>'.repeat(2500)), 'too_large');
    await rejects(inSigned('<!---->x'.repeat(20)), 'too_large');
    await rejects(inEnvelope('<?pi?>'.repeat(20)), 'too_large');
    await rejects(inEnvelope(`<a ${Array.from({ length: 40 }, (_, i) => `a${i}="1"`).join(' ')}/>`), 'too_large');
  });

  it('duplicate IDs', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, id: ID }).replace(
      '<samlp:Status>',
      `<x:Dummy xmlns:x="urn:example:x" ID="${ID}"/><samlp:Status>`,
    );
    await rejects(xml, 'duplicate_id');
  });

  it('duplicate IDs through Id / id spellings (xml-crypto resolves all three)', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, id: ID }).replace(
      '<samlp:Status>',
      `<x:Dummy xmlns:x="urn:example:x" x:id="${ID}"/><samlp:Status>`,
    );
    await rejects(xml, 'duplicate_id');
  });

  it('two assertions', async () => {
    const two = responseXml(signedAssertion({ now: NOW }) + signedAssertion({ now: NOW }), { now: NOW });
    await rejects(two, 'multiple_assertions');
  });

  it('EncryptedAssertion', async () => {
    const encrypted =
      '<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedAssertion>';
    const response = responseXml(encrypted, { now: NOW, responseId: '_enc' });
    await rejects(signElement(response, '_enc'), 'invalid');
  });

  it('not well-formed XML', async () => {
    await rejects('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><unclosed></samlp:Response>', 'not_xml');
  });

  it('wrong root element', async () => {
    await rejects('<html><body>hello</body></html>', 'not_xml', { form: 'either' });
  });

  it('a declared non-UTF-8 encoding', async () => {
    await rejects(`<?xml version="1.0" encoding="ISO-8859-1"?>${body()}`, 'not_xml');
  });
});

describe('encoding attacks', () => {
  it('garbage base64', async () => {
    await rejectsEncoded('!!!this is not base64$$$', 'malformed_encoding');
  });

  it('empty parameter', async () => {
    await rejectsEncoded('', 'malformed_encoding');
  });

  it('mixed base64 and base64url alphabets', async () => {
    await rejectsEncoded('PHNhbWxw+Olj_ZXNwb25zZT4=', 'malformed_encoding');
  });

  it('base64 of something that is not XML', async () => {
    await rejects('hello, I am plain text', 'not_xml');
  });

  it('base64 of bytes that are not UTF-8 (UTF-16 with BOM)', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(responseWithSignedAssertion({ now: NOW }), 'utf16le')]);
    await rejectsEncoded(utf16.toString('base64'), 'not_xml');
  });

  it('an oversized document (decoded size over 64 KiB)', async () => {
    const padding = `<!-- ${'x'.repeat(70_000)} -->`;
    await rejects(`${padding}${responseWithSignedAssertion({ now: NOW })}`, 'too_large');
  });

  it('a huge parameter is refused from its length, before decoding', async () => {
    const huge = 'A'.repeat(50 * 1024 * 1024);
    const started = performance.now();
    await rejectsEncoded(huge, 'too_large');
    assert.ok(performance.now() - started < 250, 'refused without processing the whole value');
  });

  it('a lower maxBytes applies', async () => {
    await rejects(responseWithSignedAssertion({ now: NOW }), 'too_large', { maxBytes: 1024 });
  });

  it('no error other than SamlRejection escapes for odd inputs', async () => {
    const odd = ['=', '====', 'A', 'AA==AA==', ' \r\n ', b64('<'), b64('<?xml version="1.0"?>'), b64('\u0000<a/>')];
    for (const encoded of odd) {
      await assert.rejects(verifySamlBearer(input(encoded, { form: 'either' })), SamlRejection);
    }
  });
});

describe('control: the same fixtures unmodified are accepted', () => {
  it('signed assertion base document', async () => {
    assert.equal((await accepts(responseWithSignedAssertion({ now: NOW, id: ID }))).assertionId, ID);
  });

  it('setNameId on a signed document is caught (sanity check of the helper)', async () => {
    const doc = parseXml(responseWithSignedAssertion({ now: NOW, id: ID }));
    setNameId(assertionOf(doc), ATTACKER_EMAIL);
    await rejects(serialize(doc), 'signature_invalid');
  });
});
