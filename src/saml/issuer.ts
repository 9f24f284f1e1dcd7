import type { Element } from '@xmldom/xmldom';
import { attr, elementChildren, is, onlyChild, textOnly } from './dom.ts';
import { NAMEID_FORMAT_ENTITY, NS_ASSERTION } from './names.ts';
import { reject } from './reject.ts';

/**
 * The `<saml:Issuer>` entity id of a Response or Assertion, or `undefined` when it has none.
 *
 * saml-core §2.3.3 / §3.2.2: Issuer is the first child element. saml-profiles §4.1.4.2: its Format
 * MUST be omitted or `...:nameid-format:entity`. RFC 7522 §3 (item 1): the Issuer MUST identify
 * the entity that issued the assertion; that value is what selects the verification keys.
 */
export function readIssuer(el: Element): string | undefined {
  const issuer = onlyChild(el, NS_ASSERTION, 'Issuer');
  if (issuer === undefined) return undefined;
  if (issuer === null || elementChildren(el)[0] !== issuer) throw reject('invalid');
  const format = attr(issuer, 'Format');
  if (format !== undefined && format !== NAMEID_FORMAT_ENTITY) throw reject('invalid');
  const text = textOnly(issuer);
  if (text === null) throw reject('invalid');
  const value = text.trim();
  if (value === '') throw reject('unknown_issuer');
  return value;
}

/** Like {@link readIssuer} for an Assertion, where the Issuer is mandatory (saml-core §2.3.3). */
export function readAssertionIssuer(assertion: Element): string {
  if (!is(assertion, NS_ASSERTION, 'Assertion')) throw reject('invalid');
  const issuer = readIssuer(assertion);
  if (issuer === undefined) throw reject('unknown_issuer');
  return issuer;
}
