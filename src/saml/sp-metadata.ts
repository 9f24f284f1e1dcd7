import { BINDING_HTTP_POST, NAMEID_FORMAT_EMAIL, NS_METADATA, NS_PROTOCOL } from './names.ts';

/**
 * This server's service-provider metadata (saml-metadata §2.3.2, §2.4.4): what an IdP
 * administrator imports (or types in) to send us assertions. It is not signed: it carries no
 * key (AuthnRequests are unsigned, nothing is encrypted to us), and it is served over the
 * issuer's own TLS.
 */
export function spMetadataXml(input: { entityId: string; acsUrl: string }): string {
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<md:EntityDescriptor xmlns:md="${NS_METADATA}" entityID="${esc(input.entityId)}">\n` +
    // WantAssertionsSigned: ask the IdP to sign the assertion itself (saml-metadata §2.4.4); a
    // signed Response around it is accepted as well, as the bearer grant does.
    `  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="${NS_PROTOCOL}">\n` +
    `    <md:NameIDFormat>${NAMEID_FORMAT_EMAIL}</md:NameIDFormat>\n` +
    `    <md:AssertionConsumerService Binding="${BINDING_HTTP_POST}" Location="${esc(input.acsUrl)}" index="0" isDefault="true"/>\n` +
    '  </md:SPSSODescriptor>\n' +
    '</md:EntityDescriptor>\n'
  );
}
