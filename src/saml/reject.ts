/**
 * Why a SAML bearer assertion was refused. The grant maps every reason to `invalid_grant`
 * (RFC 7522 §3.1 / RFC 6749 §5.2); the reason itself is for logs and tests.
 */
export type SamlRejectReason =
  | 'malformed_encoding'
  | 'too_large'
  | 'not_xml'
  | 'doctype_forbidden'
  | 'unknown_issuer'
  | 'issuer_mismatch'
  | 'signature_missing'
  | 'signature_invalid'
  | 'weak_algorithm'
  | 'unsupported_algorithm'
  | 'status_not_success'
  | 'destination_mismatch'
  | 'in_response_to_present'
  | 'unsolicited'
  | 'in_response_to_mismatch'
  | 'destination_missing'
  | 'audience_mismatch'
  | 'recipient_mismatch'
  | 'no_bearer_confirmation'
  | 'expired'
  | 'not_yet_valid'
  | 'no_expiry'
  | 'unknown_condition'
  | 'multiple_assertions'
  | 'duplicate_id'
  | 'no_subject'
  | 'invalid';

/**
 * Fixed texts, one per reason. The message never carries anything taken from the document:
 * an attacker must not be able to reflect content into logs or error bodies through it, and
 * library error texts (which quote digests, node dumps, URIs) never reach it either.
 */
const MESSAGES: Readonly<Record<SamlRejectReason, string>> = {
  malformed_encoding: 'SAML parameter is not valid base64 or base64url',
  too_large: 'SAML document is too large',
  not_xml: 'SAML document is not well-formed XML of the expected type',
  doctype_forbidden: 'SAML document contains a DTD, entity declaration or external reference',
  unknown_issuer: 'SAML issuer is not a registered identity provider',
  issuer_mismatch: 'SAML response and assertion issuers differ',
  signature_missing: 'SAML document is not signed',
  signature_invalid: 'SAML signature is not valid for a registered certificate',
  weak_algorithm: 'SAML signature uses a refused algorithm',
  unsupported_algorithm: 'SAML signature uses a signature or digest algorithm this server does not support',
  status_not_success: 'SAML response status is not Success',
  destination_mismatch: 'SAML response destination is not the endpoint it was sent to',
  in_response_to_present: 'SAML document answers a request this server did not make',
  unsolicited: 'SAML response does not answer a request of this server (unsolicited responses are refused)',
  in_response_to_mismatch: 'SAML response answers another request than the one this sign-in sent',
  destination_missing: 'SAML response has no Destination',
  audience_mismatch: 'SAML assertion is not addressed to this server',
  recipient_mismatch: 'SAML subject confirmation recipient is not the endpoint it was sent to',
  no_bearer_confirmation: 'SAML assertion has no usable bearer subject confirmation',
  expired: 'SAML assertion has expired',
  not_yet_valid: 'SAML assertion is not yet valid',
  no_expiry: 'SAML assertion has no expiry',
  unknown_condition: 'SAML assertion carries a condition this server does not understand',
  multiple_assertions: 'SAML document must contain exactly one assertion',
  duplicate_id: 'SAML document contains duplicate ID attributes',
  no_subject: 'SAML assertion has no usable subject email',
  invalid: 'SAML document is invalid',
};

/** The only error {@link verifySamlBearer} throws for a refused document. */
export class SamlRejection extends Error {
  readonly reason: SamlRejectReason;

  constructor(reason: SamlRejectReason) {
    super(MESSAGES[reason]);
    this.name = 'SamlRejection';
    this.reason = reason;
  }
}

/** Shorthand that keeps call sites to one line: `throw reject('expired')`. */
export function reject(reason: SamlRejectReason): SamlRejection {
  return new SamlRejection(reason);
}
