import type { Element } from '@xmldom/xmldom';
import { attr, childrenNamed, elementChildren, is, onlyChild, textOnly } from './dom.ts';
import { parseSamlInstant } from './instant.ts';
import { NS_ASSERTION } from './names.ts';
import { reject } from './reject.ts';
import type { ValidityClock } from './validity-window.ts';
import { checkWindow } from './validity-window.ts';

/**
 * Evaluates the assertion's `<saml:Conditions>`; returns its NotOnOrAfter (epoch ms) if any.
 *
 * Understood conditions:
 * - AudienceRestriction: enforced against `audiences`.
 * - OneTimeUse (saml-core §2.5.1.5): understood as "reject replays", which the caller's replay
 *   cache enforces for every bearer assertion anyway (it stores `assertionId` until expiry).
 * - ProxyRestriction (saml-core §2.5.1.6): limits relying parties that go on to issue SAML
 *   assertions of their own. This server never issues SAML assertions (it issues OAuth tokens to
 *   the subject, not assertions to third parties), so it complies by construction.
 * Anything else, including `<saml:Condition xsi:type=...>` extensions and foreign elements, is an
 * unknown condition and refuses the assertion.
 */
export function checkConditions(assertion: Element, audiences: readonly string[], clock: ValidityClock): number | undefined {
  const conditions = onlyChild(assertion, NS_ASSERTION, 'Conditions');
  // saml-core §2.3.3: at most one <Conditions>.
  if (conditions === null) throw reject('invalid');
  // RFC 7522 §3 (item 2): the Assertion MUST contain Conditions with an AudienceRestriction
  // naming the authorization server.
  if (conditions === undefined) throw reject('audience_mismatch');

  const restrictions: Element[] = [];
  let oneTimeUse = 0;
  let proxyRestriction = 0;
  for (const child of elementChildren(conditions)) {
    if (is(child, NS_ASSERTION, 'AudienceRestriction')) restrictions.push(child);
    else if (is(child, NS_ASSERTION, 'OneTimeUse')) oneTimeUse++;
    else if (is(child, NS_ASSERTION, 'ProxyRestriction')) proxyRestriction++;
    // saml-core §2.5.1: a condition the relying party does not understand makes the assertion
    // Indeterminate; RFC 7522 §3 (item 11): the server MUST reject it ("unknown condition types").
    else throw reject('unknown_condition');
  }
  // saml-core §2.5.1.5 / §2.5.1.6: an authority MUST NOT include more than one of each.
  if (oneTimeUse > 1 || proxyRestriction > 1) throw reject('invalid');

  const notBefore = optionalInstant(conditions, 'NotBefore');
  const notOnOrAfter = optionalInstant(conditions, 'NotOnOrAfter');
  // RFC 7522 §3 (items 6, 11): reject if NotOnOrAfter has passed or NotBefore is not yet reached.
  checkWindow(clock, notBefore, notOnOrAfter);

  // RFC 7522 §3 (item 2) and saml-core §2.5.1.4: within one AudienceRestriction any Audience may
  // match (OR); every AudienceRestriction must be satisfied (AND).
  if (restrictions.length === 0) throw reject('audience_mismatch');
  for (const restriction of restrictions) {
    const named = childrenNamed(restriction, NS_ASSERTION, 'Audience');
    if (named.length === 0 || named.length !== elementChildren(restriction).length) throw reject('audience_mismatch');
    const matches = named.some((a) => {
      const value = textOnly(a);
      return value !== null && audiences.includes(value.trim());
    });
    if (!matches) throw reject('audience_mismatch');
  }
  return notOnOrAfter;
}

export function optionalInstant(el: Element, name: string): number | undefined {
  const value = attr(el, name);
  return value === undefined ? undefined : parseSamlInstant(value);
}
