/** Documents validly signed by the registered IdP that break one RFC 7522 / saml-core rule each. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SamlRejection, verifySamlBearer } from '../../src/saml/verify-saml.ts';
import {
  assertionXml,
  b64,
  registry,
  responseWithSignedAssertion,
  responseXml,
  SHA384_DIGEST,
  signElement,
  signedAssertion,
  signedResponse,
  testIdp,
} from '../support/test-idp.ts';
import { accepts, input, NOW, rejects } from './harness.ts';

const REQUESTER = 'urn:oasis:names:tc:SAML:2.0:status:Requester';

describe('verifySamlBearer enforces', () => {
  describe('validity window', () => {
    it('expired: Conditions NotOnOrAfter passed (beyond the skew)', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW }), 'expired', { now: NOW + 5 * 60_000 + 60_000 });
    });

    it('expired: SubjectConfirmationData NotOnOrAfter passed while Conditions still hold', async () => {
      const xml = responseWithSignedAssertion({ now: NOW, notOnOrAfter: NOW + 3_600_000, confirmationNotOnOrAfter: NOW - 120_000 });
      await rejects(xml, 'expired');
    });

    it('expired: exactly at NotOnOrAfter + skew (NotOnOrAfter is exclusive)', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, notOnOrAfter: NOW + 1000 }), 'expired', { now: NOW + 1000 + 60_000 });
    });

    it('not yet valid: NotBefore beyond the skew', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, notBefore: NOW + 61_000 }), 'not_yet_valid');
    });

    it('no expiry: no NotOnOrAfter on Conditions nor on the confirmation', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, omitNotOnOrAfter: true }), 'no_expiry');
    });

    it('a custom clock skew of zero', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, notOnOrAfter: NOW }), 'expired', { clockSkewMs: 0 });
    });

    it('a malformed instant is invalid, not ignored (Feb 30 signed by the IdP)', async () => {
      const id = '_badtime';
      const assertion = assertionXml({ now: NOW, id }).replace(/NotBefore="[^"]+"/, 'NotBefore="2026-02-30T00:00:00Z"');
      await rejects(responseXml(signElement(assertion, id), { now: NOW }), 'invalid');
    });
  });

  describe('audience and subject confirmation', () => {
    it('wrong audience', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, audience: 'https://other-sp.example' }), 'audience_mismatch');
    });

    it('every AudienceRestriction must be satisfied', async () => {
      const xml = responseWithSignedAssertion({
        now: NOW,
        extraConditions: '<saml:AudienceRestriction><saml:Audience>https://other-sp.example</saml:Audience></saml:AudienceRestriction>',
      });
      await rejects(xml, 'audience_mismatch');
    });

    it('wrong recipient', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, recipient: 'https://evil.example/token' }), 'recipient_mismatch');
    });

    it('no bearer confirmation (holder-of-key only)', async () => {
      const xml = responseWithSignedAssertion({ now: NOW, method: 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key' });
      await rejects(xml, 'no_bearer_confirmation');
    });

    it('InResponseTo on SubjectConfirmationData', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, inResponseTo: '_req1' }), 'in_response_to_present');
    });

    it('InResponseTo on the Response', async () => {
      await rejects(signedResponse({ now: NOW, responseInResponseTo: '_req1' }), 'in_response_to_present');
    });

    it('unknown condition (a Condition extension)', async () => {
      const xml = responseWithSignedAssertion({
        now: NOW,
        extraConditions: '<saml:Condition xmlns:ext="urn:example:ext" xsi:type="ext:GeoFence"/>',
      });
      await rejects(xml, 'unknown_condition');
    });

    it('unknown condition (a foreign element)', async () => {
      await rejects(
        responseWithSignedAssertion({ now: NOW, extraConditions: '<x:Whatever xmlns:x="urn:example:x"/>' }),
        'unknown_condition',
      );
    });

    it('two OneTimeUse conditions are invalid (saml-core §2.5.1.5)', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, extraConditions: '<saml:OneTimeUse/><saml:OneTimeUse/>' }), 'invalid');
    });
  });

  describe('issuer and response envelope', () => {
    it('unknown issuer (signed by the registered key, issuer not registered)', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, issuer: 'https://unregistered.example' }), 'unknown_issuer');
    });

    it('unknown issuer (an unregistered IdP with its own key)', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, idp: testIdp('attacker') }), 'unknown_issuer');
    });

    it('issuer mismatch between Response and Assertion (assertion signed)', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, responseIssuer: testIdp('secondary').entityId }), 'issuer_mismatch');
    });

    it('issuer mismatch between Response and Assertion (response signed)', async () => {
      const secondary = testIdp('secondary');
      const findIdp = registry(
        { entityId: testIdp().entityId, certificates: [testIdp().certPem] },
        { entityId: secondary.entityId, certificates: [secondary.certPem] },
      );
      await rejects(signedResponse({ now: NOW, responseIssuer: secondary.entityId }), 'issuer_mismatch', { findIdp });
    });

    it('status not success (with an assertion)', async () => {
      await rejects(signedResponse({ now: NOW, status: REQUESTER }), 'status_not_success');
    });

    it('status not success (IdP error response without assertion)', async () => {
      const response = responseXml('', { now: NOW, status: REQUESTER, responseId: '_err' });
      await rejects(signElement(response, '_err'), 'status_not_success');
    });

    it('destination mismatch', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, destination: 'https://evil.example/acs' }), 'destination_mismatch');
    });

    it('SAMLResponse form refuses a bare Assertion, SAMLAssertion form refuses a Response', async () => {
      await rejects(signedAssertion({ now: NOW }), 'not_xml', { form: 'response' });
      await rejects(responseWithSignedAssertion({ now: NOW }), 'not_xml', { form: 'assertion' });
    });
  });

  describe('subject', () => {
    it('no usable subject: opaque NameID and no email attribute', async () => {
      const xml = responseWithSignedAssertion({
        now: NOW,
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        email: 'opaque-1',
      });
      await rejects(xml, 'no_subject');
    });

    it('no usable subject: NameID with an element inside (value split by markup)', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, nameIdInnerXml: 'victim@x.com<b xmlns=""/>.evil.com' }), 'no_subject');
    });

    it('no usable subject: two different email attribute values', async () => {
      const id = '_twomails';
      const xml = assertionXml({ now: NOW, id, omitNameId: true, attributesEmail: 'a@example.com' }).replace(
        '</saml:Attribute>',
        '<saml:AttributeValue>b@example.com</saml:AttributeValue></saml:Attribute>',
      );
      await rejects(responseXml(signElement(xml, id), { now: NOW }), 'no_subject');
    });
  });

  describe('algorithms', () => {
    it('SHA-1 signature and digest refused by default', async () => {
      await rejects(responseWithSignedAssertion({ now: NOW, sha1: true }), 'weak_algorithm');
      await rejects(signedResponse({ now: NOW, sha1: true }), 'weak_algorithm');
    });

    it('a SHA-1 digest under a SHA-256 signature is refused too', async () => {
      const xml = responseWithSignedAssertion({ now: NOW }).replace(
        'http://www.w3.org/2001/04/xmlenc#sha256',
        'http://www.w3.org/2000/09/xmldsig#sha1',
      );
      await rejects(xml, 'weak_algorithm');
    });

    it('RSA-SHA512 over a SHA-384 digest (as Lasso signs) is unsupported_algorithm, not signature_invalid', async () => {
      const lasso = { now: NOW, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', digestAlgorithm: SHA384_DIGEST };
      await rejects(responseWithSignedAssertion(lasso), 'unsupported_algorithm');
      await rejects(signedResponse(lasso), 'unsupported_algorithm');
      // The same document with a digest on the list verifies: only the algorithm was at fault.
      await accepts(responseWithSignedAssertion({ ...lasso, digestAlgorithm: undefined }));
    });

    it('a signature method outside the list (ECDSA, HMAC) is unsupported_algorithm; a missing Algorithm is signature_invalid', async () => {
      const xml = responseWithSignedAssertion({ now: NOW });
      const rsaSha256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
      await rejects(xml.replace(rsaSha256, 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'), 'unsupported_algorithm');
      await rejects(xml.replace(rsaSha256, 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256'), 'unsupported_algorithm');
      await rejects(xml.replace(`<ds:SignatureMethod Algorithm="${rsaSha256}"/>`, '<ds:SignatureMethod/>'), 'signature_invalid');
    });
  });

  describe('API contract', () => {
    it('rejection messages are fixed texts and never echo the document', async () => {
      const email = 'leak-me@example.com';
      try {
        await verifySamlBearer(input(b64(responseWithSignedAssertion({ now: NOW, email, audience: 'https://leak.example' }))));
        assert.fail('should have been rejected');
      } catch (err) {
        assert.ok(err instanceof SamlRejection);
        assert.equal(err.reason, 'audience_mismatch');
        assert.equal(err.message, 'SAML assertion is not addressed to this server');
        assert.ok(!err.message.includes('leak'));
        assert.equal(err.cause, undefined);
      }
    });

    it('errors thrown by findIdp pass through unchanged (they are not a verdict on the document)', async () => {
      const outage = new Error('store down');
      const findIdp = async (): Promise<undefined> => {
        throw outage;
      };
      await assert.rejects(verifySamlBearer(input(b64(responseWithSignedAssertion({ now: NOW })), { findIdp })), (err) => err === outage);
    });

    it('a registry entry for another entity id is an unknown issuer', async () => {
      const findIdp = async () => ({ entityId: 'https://someone-else.example', certificates: [testIdp().certPem] });
      await rejects(responseWithSignedAssertion({ now: NOW }), 'unknown_issuer', { findIdp });
    });

    it('a registered IdP with no usable certificate cannot verify anything', async () => {
      const findIdp = registry({ entityId: testIdp().entityId, certificates: ['not a certificate'] });
      await rejects(responseWithSignedAssertion({ now: NOW }), 'signature_invalid', { findIdp });
    });

    it('invalid options are caller bugs (TypeError), not rejections', async () => {
      await assert.rejects(verifySamlBearer(input('AAAA', { now: Number.NaN })), TypeError);
    });

    it('the default instance still accepts after all of the above (no poisoned caches)', async () => {
      const result = await accepts(responseWithSignedAssertion({ now: NOW, id: '_final' }));
      assert.equal(result.assertionId, '_final');
    });
  });
});
