import type { Element } from '@xmldom/xmldom';
import { attr } from './dom.ts';
import { hasSuccessStatus } from './envelope.ts';
import { readIssuer } from './issuer.ts';
import { reject } from './reject.ts';

/**
 * Protocol checks on a `<samlp:Response>` around the assertion (RFC 7522 §3 sits on top of
 * saml-core; these are the saml-core rules a relying party without an AuthnRequest must apply,
 * and, with `inResponseTo`, those of the Web Browser SSO profile at an assertion consumer service).
 * The element is the signed copy when the Response is signed, else the envelope as received.
 */
export function checkResponse(response: Element, recipient: string, assertionIssuer: string, inResponseTo?: string): void {
  // saml-core §3.2.2: Version MUST be "2.0" and ID is required.
  if (attr(response, 'Version') !== '2.0' || !attr(response, 'ID')) throw reject('invalid');
  if (inResponseTo === undefined) {
    // saml-core §3.2.2: InResponseTo answers a request; the token endpoint sends none, so a
    // response that answers one was obtained for another relying party.
    if (response.hasAttribute('InResponseTo')) throw reject('in_response_to_present');
  } else if (response.hasAttribute('InResponseTo') && attr(response, 'InResponseTo') !== inResponseTo) {
    // saml-profiles §4.1.4.2: a Response to an AuthnRequest carries its ID in InResponseTo. Its
    // absence is judged by the caller, which knows whether this copy is signed.
    throw reject('in_response_to_mismatch');
  }
  // saml-core §3.2.2: "If [Destination] is present, the actual recipient MUST check that the URI
  // reference identifies the location at which the message was received."
  const destination = attr(response, 'Destination');
  // saml-bindings §3.5.5.2: a signed Response sent by HTTP-POST MUST carry Destination; every
  // IdP sends it, so at the ACS its absence is refused whatever was signed.
  if (destination === undefined && inResponseTo !== undefined) throw reject('destination_missing');
  if (destination !== undefined && destination !== recipient) throw reject('destination_mismatch');
  // saml-profiles §4.1.4.2: the Response Issuer, when present, identifies the issuing IdP; it
  // must be the same entity that issued (and signed) the assertion.
  const issuer = readIssuer(response);
  if (issuer !== undefined && issuer !== assertionIssuer) throw reject('issuer_mismatch');
  // saml-core §3.2.2.2: only the Success top-level status means the request was fulfilled.
  if (!hasSuccessStatus(response)) throw reject('status_not_success');
}
