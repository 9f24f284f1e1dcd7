import { type KeyObject, sign } from 'node:crypto';

/** The only algorithm this SP signs with (xmldsig-more §2.3.2; saml-bindings §3.4.4.1 names it by URI). */
export const SIG_ALG_RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

/**
 * The detached signature of the HTTP-Redirect binding (saml-bindings §3.4.4.1). It is not an XML
 * signature: the message travels deflated in the query string, so the signature covers the query
 * itself and is carried beside it in `Signature`.
 *
 * @param encodedQuery `SAMLRequest=…&RelayState=…`, each value already URL-encoded exactly as it
 *   goes on the wire
 * @returns the query to append: the input, `&SigAlg=…` and `&Signature=…`
 */
export function signRedirectQuery(encodedQuery: string, privateKey: KeyObject): string {
  // saml-bindings §3.4.4.1: the signed octets MUST be `SAMLRequest=value&RelayState=value&SigAlg=value`,
  // in this order, with the URL-encoded values as they appear in the query (the verifier signs
  // over what it received, not over a re-encoding of its own).
  const octets = `${encodedQuery}&SigAlg=${encodeURIComponent(SIG_ALG_RSA_SHA256)}`;
  // RSASSA-PKCS1-v1_5 with SHA-256, which is what rsa-sha256 denotes (RFC 6931 §2.3.2 / RFC 4051).
  const signature = sign('sha256', Buffer.from(octets, 'utf8'), privateKey).toString('base64');
  return `${octets}&Signature=${encodeURIComponent(signature)}`;
}
