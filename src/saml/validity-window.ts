import { reject } from './reject.ts';

/** The injected clock and the tolerated drift between this server and the IdP. */
export interface ValidityClock {
  now: number;
  skewMs: number;
}

/**
 * Applies a NotBefore / NotOnOrAfter pair (either may be absent) with clock skew.
 *
 * saml-core §2.5.1.2 (Conditions) and §2.4.1.2 (SubjectConfirmationData): the element is valid
 * from NotBefore inclusive to NotOnOrAfter exclusive, and when both are present NotBefore MUST be
 * earlier. RFC 7522 §3 (item 6): expiry is judged "subject to allowable clock skew".
 */
export function checkWindow(clock: ValidityClock, notBefore: number | undefined, notOnOrAfter: number | undefined): void {
  if (notBefore !== undefined && notOnOrAfter !== undefined && notBefore >= notOnOrAfter) throw reject('invalid');
  if (notBefore !== undefined && clock.now + clock.skewMs < notBefore) throw reject('not_yet_valid');
  if (notOnOrAfter !== undefined && clock.now - clock.skewMs >= notOnOrAfter) throw reject('expired');
}
