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

/**
 * The latest instant (epoch ms, before skew) at which any part of an assertion could still be
 * accepted: the latest of every bearer SubjectConfirmationData/@NotOnOrAfter, Conditions/@NotOnOrAfter
 * and IssueInstant + the maximum assertion lifetime. A replay record kept until this instant plus
 * the skew outlives every way the assertion can be accepted, whichever confirmation is honoured at
 * the next attempt; it is deliberately an upper bound, independent of which rule ends acceptance first.
 */
export function latestAcceptance(parts: {
  confirmationExpiries: readonly number[];
  conditionsNotOnOrAfter: number | undefined;
  issueInstant: number;
  maxLifetimeMs: number | undefined;
}): number {
  return Math.max(
    ...parts.confirmationExpiries,
    parts.conditionsNotOnOrAfter ?? Number.NEGATIVE_INFINITY,
    parts.maxLifetimeMs === undefined ? Number.NEGATIVE_INFINITY : parts.issueInstant + parts.maxLifetimeMs,
  );
}
