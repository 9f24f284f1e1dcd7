/**
 * GET /saml/metadata: the SP metadata an IdP administrator imports, validated against the SAML 2.0
 * metadata schema (OASIS XSDs in test/fixtures/saml-xsd, checked by libxml2 compiled to wasm).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { validateXML } from 'xmllint-wasm';
import { createHarness, type Harness } from '../support/harness.ts';

const XSD_DIR = new URL('../fixtures/saml-xsd/', import.meta.url);
const xsd = (fileName: string) => ({ fileName, contents: readFileSync(new URL(fileName, XSD_DIR), 'utf8') });

async function validateMetadata(xml: string) {
  return validateXML({
    xml: [{ fileName: 'metadata.xml', contents: xml }],
    schema: [xsd('saml-schema-metadata-2.0.xsd')],
    preload: [xsd('saml-schema-assertion-2.0.xsd'), xsd('xmldsig-core-schema.xsd'), xsd('xenc-schema.xsd'), xsd('xml.xsd')],
  });
}

describe('SP metadata', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ issuer: 'https://auth.example.com' });
  });
  after(async () => h?.close());

  test('GET /saml/metadata: entityID = ISSUER, ACS {ISSUER}/saml/acs (HTTP-POST), NameID email, WantAssertionsSigned', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/saml/metadata' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/samlmetadata\+xml/);
    const xml = res.body;
    assert.match(xml, /<md:EntityDescriptor [^>]*entityID="https:\/\/auth\.example\.com"/);
    assert.match(
      xml,
      /<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST" Location="https:\/\/auth\.example\.com\/saml\/acs"/,
    );
    assert.match(xml, /<md:NameIDFormat>urn:oasis:names:tc:SAML:1\.1:nameid-format:emailAddress<\/md:NameIDFormat>/);
    assert.match(xml, /WantAssertionsSigned="true"/);
  });

  test('validates against saml-schema-metadata-2.0.xsd', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/saml/metadata' });
    const result = await validateMetadata(res.body);
    assert.deepEqual(result.errors, []);
    assert.equal(result.valid, true);
  });

  test('the validator is not a rubber stamp: a broken descriptor fails the schema', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/saml/metadata' });
    const broken = res.body.replace(' index="0"', '').replace('protocolSupportEnumeration', 'protocolSupport');
    const result = await validateMetadata(broken);
    assert.equal(result.valid, false);
  });
});
