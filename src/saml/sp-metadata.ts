import { BINDING_HTTP_POST, NAMEID_FORMAT_EMAIL, NS_DSIG, NS_METADATA, NS_PROTOCOL } from './names.ts';

/**
 * This server's service-provider metadata (saml-metadata §2.3.2, §2.4.4): what an IdP
 * administrator imports (or types in) to send us assertions. It is not signed itself; it is
 * served over the issuer's own TLS. It carries the SP's signing certificate once that exists,
 * so that IdPs wanting signed AuthnRequests can verify them; nothing is encrypted to us.
 */
export function spMetadataXml(input: {
  entityId: string;
  acsUrl: string;
  /** the SP signing certificate, PEM; absent: no KeyDescriptor */
  signingCertificatePem?: string;
  /** AuthnRequestsSigned: true when this SP signs its AuthnRequests (to some IdPs at least) */
  authnRequestsSigned?: boolean;
}): string {
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  // saml-metadata §2.4.1.1 / xmldsig §4.4.4: X509Certificate holds the base64 DER, no PEM armour.
  const der = input.signingCertificatePem?.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  const keyDescriptor =
    der === undefined
      ? ''
      : `    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${NS_DSIG}"><ds:X509Data><ds:X509Certificate>${der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<md:EntityDescriptor xmlns:md="${NS_METADATA}" entityID="${esc(input.entityId)}">\n` +
    // WantAssertionsSigned: ask the IdP to sign the assertion itself (saml-metadata §2.4.4); a
    // signed Response around it is accepted as well, as the bearer grant does.
    `  <md:SPSSODescriptor AuthnRequestsSigned="${input.authnRequestsSigned === true}" WantAssertionsSigned="true" protocolSupportEnumeration="${NS_PROTOCOL}">\n` +
    // The schema's order (RoleDescriptorType before SSODescriptorType): KeyDescriptor precedes NameIDFormat.
    keyDescriptor +
    `    <md:NameIDFormat>${NAMEID_FORMAT_EMAIL}</md:NameIDFormat>\n` +
    `    <md:AssertionConsumerService Binding="${BINDING_HTTP_POST}" Location="${esc(input.acsUrl)}" index="0" isDefault="true"/>\n` +
    '  </md:SPSSODescriptor>\n' +
    '</md:EntityDescriptor>\n'
  );
}
