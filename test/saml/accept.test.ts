import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifySamlBearer } from '../../src/saml/verify-saml.ts';
import {
  assertionXml,
  b64,
  b64url,
  DEFAULT_EMAIL,
  DEFAULT_RECIPIENT,
  registry,
  responseWithSignedAssertion,
  responseXml,
  signElement,
  signedAssertion,
  signedResponse,
  testIdp,
} from '../support/test-idp.ts';
import { accepts, input, NOW } from './harness.ts';

const primary = testIdp('primary');
const EXPIRY = NOW + 5 * 60_000;

describe('verifySamlBearer accepts', () => {
  it('a signed Response (assertion unsigned inside)', async () => {
    const result = await accepts(signedResponse({ now: NOW, id: '_a1' }));
    assert.deepEqual(result, {
      issuer: primary.entityId,
      assertionId: '_a1',
      email: DEFAULT_EMAIL,
      notOnOrAfter: EXPIRY,
      acceptableUntil: EXPIRY,
    });
  });

  it('a signed Assertion inside an unsigned Response', async () => {
    const result = await accepts(responseWithSignedAssertion({ now: NOW, id: '_a2' }));
    assert.deepEqual(result, {
      issuer: primary.entityId,
      assertionId: '_a2',
      email: DEFAULT_EMAIL,
      notOnOrAfter: EXPIRY,
      acceptableUntil: EXPIRY,
    });
  });

  it('a signed Response around a signed Assertion', async () => {
    const result = await accepts(signedResponse({ now: NOW, id: '_a3', signAssertionToo: true }));
    assert.deepEqual(result, {
      issuer: primary.entityId,
      assertionId: '_a3',
      email: DEFAULT_EMAIL,
      notOnOrAfter: EXPIRY,
      acceptableUntil: EXPIRY,
    });
  });

  it("a bare signed Assertion with form 'assertion'", async () => {
    const result = await accepts(signedAssertion({ now: NOW, id: '_a4' }), { form: 'assertion' });
    assert.equal(result.assertionId, '_a4');
    assert.equal(result.email, DEFAULT_EMAIL);
  });

  it("a bare signed Assertion with form 'either' (RFC 7522 assertion parameter)", async () => {
    const result = await accepts(signedAssertion({ now: NOW, id: '_a5' }), { form: 'either' });
    assert.equal(result.assertionId, '_a5');
  });

  it("a Response with form 'either'", async () => {
    const result = await accepts(responseWithSignedAssertion({ now: NOW, id: '_a6' }), { form: 'either' });
    assert.equal(result.assertionId, '_a6');
  });

  it('base64url without padding', async () => {
    const encoded = b64url(signedAssertion({ now: NOW, id: '_a7' }));
    assert.ok(!encoded.includes('='));
    const result = await verifySamlBearer(input(encoded, { form: 'assertion' }));
    assert.equal(result.assertionId, '_a7');
  });

  it('base64 wrapped at 76 columns with CRLF (MIME style, as some IdPs post it)', async () => {
    const encoded = b64(responseWithSignedAssertion({ now: NOW, id: '_a8' })).replace(/.{76}/g, '$&\r\n');
    const result = await verifySamlBearer(input(encoded));
    assert.equal(result.assertionId, '_a8');
  });

  it('two registered certificates (key rollover) when the second one signs', async () => {
    const secondary = testIdp('secondary');
    const findIdp = registry({ entityId: primary.entityId, certificates: [primary.certPem, secondary.certPem] });
    const xml = responseWithSignedAssertion({ now: NOW, id: '_a9', idp: secondary, issuer: primary.entityId });
    const result = await accepts(xml, { findIdp });
    assert.equal(result.issuer, primary.entityId);
    assert.equal(result.assertionId, '_a9');
  });

  it('two registered certificates when the second one signs and no KeyInfo hint is given', async () => {
    const secondary = testIdp('secondary');
    const findIdp = registry({ entityId: primary.entityId, certificates: [primary.certPem, secondary.certPem] });
    const xml = signedResponse({ now: NOW, id: '_a10', idp: secondary, issuer: primary.entityId, includeKeyInfoCert: false });
    assert.equal((await accepts(xml, { findIdp })).assertionId, '_a10');
  });

  it('falls back to the next registered certificate when the first does not verify', async () => {
    // A certificate set used by no other test, so no remembered signer reorders the attempts.
    const findIdp = registry({ entityId: primary.entityId, certificates: [testIdp('attacker').certPem, primary.certPem] });
    const xml = responseWithSignedAssertion({ now: NOW, id: '_a11', includeKeyInfoCert: false });
    assert.equal((await accepts(xml, { findIdp })).assertionId, '_a11');
  });

  it('an RSA-PSS (sha256-rsa-MGF1) signature', async () => {
    const xml = responseWithSignedAssertion({
      now: NOW,
      id: '_pss',
      signatureAlgorithm: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
    });
    assert.ok(xml.includes('sha256-rsa-MGF1'));
    assert.equal((await accepts(xml)).assertionId, '_pss');
  });

  it('the email from an email attribute when the NameID is not an address', async () => {
    const xml = responseWithSignedAssertion({
      now: NOW,
      nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      email: 'opaque-7f3a',
      attributesEmail: ' bob@example.org ',
    });
    assert.equal((await accepts(xml)).email, 'bob@example.org');
  });

  it('an unspecified-format NameID holding an address, trimmed', async () => {
    const xml = responseWithSignedAssertion({
      now: NOW,
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      email: '  carol@example.net\n',
    });
    assert.equal((await accepts(xml)).email, 'carol@example.net');
  });

  it('OneTimeUse and ProxyRestriction conditions (understood)', async () => {
    const xml = responseWithSignedAssertion({
      now: NOW,
      extraConditions: '<saml:OneTimeUse/><saml:ProxyRestriction Count="0"/>',
    });
    assert.equal((await accepts(xml)).email, DEFAULT_EMAIL);
  });

  it('the token endpoint URL as audience (both audiences are acceptable)', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, audience: DEFAULT_RECIPIENT });
    assert.equal((await accepts(xml)).email, DEFAULT_EMAIL);
  });

  it('a Response without Destination', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, destination: null });
    assert.equal((await accepts(xml)).email, DEFAULT_EMAIL);
  });

  it('a Response without Issuer (optional in saml-core)', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, responseIssuer: null });
    assert.equal((await accepts(xml)).email, DEFAULT_EMAIL);
  });

  it('an assertion just inside the clock skew after expiry, and returns the earliest expiry', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, notOnOrAfter: NOW + 120_000, confirmationNotOnOrAfter: NOW + 60_000 });
    const result = await accepts(xml, { now: NOW + 60_000 + 59_999 });
    assert.equal(result.notOnOrAfter, NOW + 60_000);
  });

  it('an assertion whose NotBefore is within the clock skew', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, notBefore: NOW + 30_000 });
    assert.equal((await accepts(xml)).email, DEFAULT_EMAIL);
  });

  it('SHA-1 only when allowSha1 is set', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, sha1: true, id: '_sha1' });
    assert.equal((await accepts(xml, { allowSha1: true })).assertionId, '_sha1');
  });

  it('a large realistic document: 400 group values, pretty-printed, both signed (~50 KiB)', async () => {
    const groups = Array.from({ length: 400 }, (_, i) => `cn=group-${i},ou=groups,dc=example,dc=com`);
    const pretty = (xml: string) => xml.replace(/></g, '>\n  <');
    const assertion = signElement(pretty(assertionXml({ now: NOW, id: '_big', groups })), '_big');
    const envelope = pretty(responseXml('<placeholder/>', { now: NOW, responseId: '_bigr' }));
    const response = signElement(envelope.replace('<placeholder/>', assertion), '_bigr');
    assert.ok(response.length > 40_000 && response.length < 65_536, `size ${response.length}`);
    assert.equal((await accepts(response)).assertionId, '_big');
  });

  it('a document with an XML declaration and a leading comment', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<!-- from the IdP -->\n${responseWithSignedAssertion({ now: NOW, id: '_decl' })}`;
    assert.equal((await accepts(xml)).assertionId, '_decl');
  });
});

describe('verifySamlBearer: acceptableUntil covers every part that could still be accepted (issue #13 item 4)', () => {
  const MINUTE = 60_000;

  it('two bearer confirmations: the later one counts, though the earlier one is honoured now', async () => {
    const xml = responseWithSignedAssertion({
      now: NOW,
      notOnOrAfter: NOW + 10 * MINUTE,
      confirmationNotOnOrAfter: NOW + MINUTE,
      extraConfirmations: [{ notOnOrAfter: NOW + 10 * MINUTE }],
    });
    const first = await accepts(xml);
    assert.equal(first.notOnOrAfter, NOW + MINUTE);
    assert.equal(first.acceptableUntil, NOW + 10 * MINUTE);
    // Why: at minute 3 the first confirmation has expired and the second one is honoured.
    const later = await accepts(xml, { now: NOW + 3 * MINUTE });
    assert.equal(later.notOnOrAfter, NOW + 10 * MINUTE);
    assert.equal(later.acceptableUntil, NOW + 10 * MINUTE);
  });

  it('Conditions later than the confirmations: Conditions/@NotOnOrAfter counts', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, notOnOrAfter: NOW + 90 * MINUTE, confirmationNotOnOrAfter: NOW + MINUTE });
    const result = await accepts(xml, { maxLifetimeMs: 60 * MINUTE });
    assert.equal(result.notOnOrAfter, NOW + MINUTE);
    assert.equal(result.acceptableUntil, NOW + 90 * MINUTE);
  });

  it('IssueInstant + the maximum lifetime counts when it is the latest', async () => {
    const xml = responseWithSignedAssertion({ now: NOW, notOnOrAfter: NOW + 5 * MINUTE });
    assert.equal((await accepts(xml)).acceptableUntil, NOW + 5 * MINUTE, 'without maxLifetimeMs: the expiries only');
    assert.equal((await accepts(xml, { maxLifetimeMs: 60 * MINUTE })).acceptableUntil, NOW + 60 * MINUTE);
  });

  it('a second bearer confirmation whose NotOnOrAfter does not parse can never be honoured and does not count', async () => {
    const id = '_unparsable_second';
    const unsigned = assertionXml({ now: NOW, id, extraConfirmations: [{ notOnOrAfter: NOW + 7 * MINUTE }] }).replace(
      new Date(NOW + 7 * MINUTE).toISOString(),
      'next tuesday',
    );
    const result = await accepts(responseXml(signElement(unsigned, id), { now: NOW }));
    assert.equal(result.acceptableUntil, EXPIRY);
  });
});
