import type { MappingReason } from '../idps/saml-user-mapping.ts';
import type { SamlRejectReason } from '../saml/reject.ts';

/**
 * Why a browser sign-in through an IdP was refused at the ACS. The person sees only a support
 * code; the reason goes to the security event log under that code (event type `saml_rejected`).
 * Every value is from a closed set (they label a metric).
 */
export type SsoRefusalReason =
  /** the verifier's reasons (src/saml/reject.ts) */
  | SamlRejectReason
  /** the user mapping's reasons (src/idps/saml-user-mapping.ts) */
  | MappingReason
  | 'lifetime_too_long'
  /** no SAMLResponse or RelayState in the POST, or given twice */
  | 'missing_parameters'
  /** a RelayState this server never made (or tampered with) */
  | 'relay_state_unknown'
  /** the RelayState was used already (a response replayed, a second tab, the back button) */
  | 'relay_state_reused'
  /** the sign-in was started more than 10 minutes ago */
  | 'request_expired'
  /** the browser posting the response is not the one that started the sign-in (no or another cookie) */
  | 'browser_mismatch'
  /** the assertion id was accepted before (saml-profiles §4.1.4.5) */
  | 'replayed'
  /** the client was disabled or removed meanwhile */
  | 'client_disabled';

export class SsoRefusal extends Error {
  readonly reason: SsoRefusalReason;
  /** what the person is shown, to quote to support: the id of the security event that holds the reason */
  readonly supportCode: string;

  constructor(reason: SsoRefusalReason, supportCode: string) {
    super(`browser sign-in refused: ${reason}`);
    this.name = 'SsoRefusal';
    this.reason = reason;
    this.supportCode = supportCode;
  }
}
