import { type KeyObject, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { BINDING_HTTP_POST, NAMEID_FORMAT_EMAIL, NS_ASSERTION, NS_PROTOCOL } from './names.ts';
import { signRedirectQuery } from './redirect-signature.ts';

/**
 * The `<samlp:AuthnRequest>` of SP-initiated browser SSO (saml-core §3.4.1, saml-profiles
 * §4.1.4.1), sent with the HTTP-Redirect binding (saml-bindings §3.4). Unsigned unless the IdP
 * asks otherwise: IdPs accept unsigned AuthnRequests by default, and nothing in it is a credential
 * (the response is bound to it by InResponseTo and to the browser by a cookie). An IdP configured
 * to want signed requests (WantAuthnRequestsSigned) gets the binding's query signature.
 */
export interface AuthnRequestInput {
  /** the SP entity id (ISSUER) */
  issuer: string;
  /** the IdP's SingleSignOnService location (HTTP-Redirect binding) */
  destination: string;
  /** our assertion consumer service (HTTP-POST binding) */
  acsUrl: string;
  /** epoch ms */
  now: number;
  /** the opaque handle the response comes back with */
  relayState: string;
  /** sign the redirect (saml-bindings §3.4.4.1) with this RSA key; absent: unsigned */
  signingKey?: KeyObject;
}

export interface AuthnRequest {
  /** the request's ID: the response's InResponseTo must equal it */
  id: string;
  xml: string;
  /** the browser goes here (GET) */
  redirectUrl: string;
}

function xmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** saml-core §1.3.4: an ID is an xs:ID (an NCName, so not starting with a digit) with at least 128 random bits. */
export function newRequestId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

export function buildAuthnRequest(input: AuthnRequestInput, id: string = newRequestId()): AuthnRequest {
  const instant = new Date(input.now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  // saml-core §3.4.1: Destination, AssertionConsumerServiceURL + ProtocolBinding (where and how
  // the response must come back), Issuer (saml-profiles §4.1.4.1: MUST be present), and
  // NameIDPolicy asking for the email address the user is mapped by.
  const xml =
    `<samlp:AuthnRequest xmlns:samlp="${NS_PROTOCOL}" xmlns:saml="${NS_ASSERTION}" ID="${id}" Version="2.0" ` +
    `IssueInstant="${instant}" Destination="${xmlAttr(input.destination)}" ` +
    `AssertionConsumerServiceURL="${xmlAttr(input.acsUrl)}" ProtocolBinding="${BINDING_HTTP_POST}">` +
    `<saml:Issuer>${xmlAttr(input.issuer)}</saml:Issuer>` +
    `<samlp:NameIDPolicy Format="${NAMEID_FORMAT_EMAIL}" AllowCreate="true"/>` +
    '</samlp:AuthnRequest>';
  // saml-bindings §3.4.4.1: DEFLATE (RFC 1951, raw, no zlib header), then base64, then URL-encoded
  // into SAMLRequest; RelayState beside it (at most 80 bytes, §3.4.3).
  const encoded = deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64');
  // encodeURIComponent, not URLSearchParams: the signed octets are exactly these characters.
  const unsigned = `SAMLRequest=${encodeURIComponent(encoded)}&RelayState=${encodeURIComponent(input.relayState)}`;
  const query = input.signingKey === undefined ? unsigned : signRedirectQuery(unsigned, input.signingKey);
  const redirectUrl = input.destination + (input.destination.includes('?') ? '&' : '?') + query;
  return { id, xml, redirectUrl };
}
