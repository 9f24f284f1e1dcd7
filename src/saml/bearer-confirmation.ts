import type { Element } from '@xmldom/xmldom';
import { optionalInstant } from './conditions.ts';
import { attr, childrenNamed, onlyChild } from './dom.ts';
import { CM_BEARER, NS_ASSERTION } from './names.ts';
import type { SamlRejectReason } from './reject.ts';
import { reject, SamlRejection } from './reject.ts';
import type { ValidityClock } from './validity-window.ts';
import { checkWindow } from './validity-window.ts';

/** What {@link checkBearerConfirmation} found (instants in epoch ms). */
export interface BearerConfirmation {
  /** NotOnOrAfter of the confirmation honoured now. */
  notOnOrAfter: number;
  /**
   * NotOnOrAfter of every bearer confirmation that has a readable one, usable now or not: another
   * one may be the one honoured later, so the replay record must outlive the latest of them.
   */
  allNotOnOrAfter: number[];
  /** A SubjectConfirmationData named the expected request (only with `inResponseTo`). */
  answersRequest: boolean;
}

/**
 * Finds a bearer `<saml:SubjectConfirmation>` this token endpoint may honour and returns its
 * SubjectConfirmationData NotOnOrAfter, with those of every bearer confirmation.
 *
 * RFC 7522 §3 (item 5): at least one SubjectConfirmation with Method `...:cm:bearer`; its
 * SubjectConfirmationData MUST carry a Recipient matching the token endpoint URL and a
 * NotOnOrAfter. The product requires the SubjectConfirmationData even when Conditions has an
 * expiry (the RFC would let Conditions stand in), so the Recipient is always bound.
 * RFC 7522 §3 (item 6): a confirmation whose NotOnOrAfter has passed MUST be rejected.
 *
 * When several bearer confirmations exist, the first usable one wins; if none is usable the
 * reason given is that of the first one.
 */
export function checkBearerConfirmation(
  subject: Element,
  recipient: string,
  clock: ValidityClock,
  conditionsNotOnOrAfter: number | undefined,
  inResponseTo?: string,
): BearerConfirmation {
  const confirmations = childrenNamed(subject, NS_ASSERTION, 'SubjectConfirmation');
  const data = confirmations.map((c) => onlyChild(c, NS_ASSERTION, 'SubjectConfirmationData'));

  let answersRequest = false;
  for (const d of data) {
    if (!d?.hasAttribute('InResponseTo')) continue;
    // saml-core §2.4.1.2: InResponseTo names the request this answers. The token endpoint never
    // sends AuthnRequests, so there a document answering one was meant for someone else.
    if (inResponseTo === undefined) throw reject('in_response_to_present');
    // saml-profiles §4.1.4.2: at an ACS, the bearer SubjectConfirmationData's InResponseTo MUST
    // match the AuthnRequest's ID.
    if (attr(d, 'InResponseTo') !== inResponseTo) throw reject('in_response_to_mismatch');
    answersRequest = true;
  }

  const bearer = confirmations.map((c, i) => ({ method: attr(c, 'Method'), data: data[i] })).filter((c) => c.method === CM_BEARER);
  if (bearer.length === 0) throw reject('no_bearer_confirmation');

  // RFC 7522 §3 (item 4): the Assertion MUST have an expiry, on Conditions or on a suitable
  // SubjectConfirmationData.
  const anyConfirmationExpiry = bearer.some((c) => c.data?.hasAttribute('NotOnOrAfter'));
  if (conditionsNotOnOrAfter === undefined && !anyConfirmationExpiry) throw reject('no_expiry');

  let firstFailure: SamlRejectReason | undefined;
  for (const c of bearer) {
    try {
      return { notOnOrAfter: usableUntil(c.data, recipient, clock), allNotOnOrAfter: readableExpiries(bearer), answersRequest };
    } catch (err) {
      if (!(err instanceof SamlRejection)) throw err;
      firstFailure ??= err.reason;
    }
  }
  throw reject(firstFailure ?? 'no_bearer_confirmation');
}

/** Every bearer NotOnOrAfter that parses; one that does not can never make its confirmation usable. */
function readableExpiries(bearer: ReadonlyArray<{ data: Element | null | undefined }>): number[] {
  const expiries: number[] = [];
  for (const c of bearer) {
    if (c.data == null) continue;
    try {
      const notOnOrAfter = optionalInstant(c.data, 'NotOnOrAfter');
      if (notOnOrAfter !== undefined) expiries.push(notOnOrAfter);
    } catch (err) {
      if (!(err instanceof SamlRejection)) throw err;
    }
  }
  return expiries;
}

function usableUntil(data: Element | null | undefined, recipient: string, clock: ValidityClock): number {
  if (data == null) throw reject('no_bearer_confirmation');
  // RFC 7522 §3 (item 5): Recipient MUST match the token endpoint URL the assertion was sent to.
  if (attr(data, 'Recipient') !== recipient) throw reject('recipient_mismatch');
  const notOnOrAfter = optionalInstant(data, 'NotOnOrAfter');
  // RFC 7522 §3 (item 5): SubjectConfirmationData MUST have a NotOnOrAfter.
  if (notOnOrAfter === undefined) throw reject('no_bearer_confirmation');
  checkWindow(clock, optionalInstant(data, 'NotBefore'), notOnOrAfter);
  return notOnOrAfter;
}
