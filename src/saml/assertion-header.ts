import type { Element } from '@xmldom/xmldom';
import { attr } from './dom.ts';
import { parseSamlInstant } from './instant.ts';
import { reject } from './reject.ts';

/**
 * saml-core §2.3.3: an Assertion MUST carry Version "2.0", an ID and an IssueInstant. The ID must
 * be the one the verified signature referenced (the caller's replay cache keys on it). Returns the
 * ID and the IssueInstant (epoch ms).
 */
export function checkAssertionHeader(assertion: Element, expectedId: string): { id: string; issueInstant: number } {
  if (attr(assertion, 'Version') !== '2.0') throw reject('invalid');
  const id = attr(assertion, 'ID');
  if (id === undefined || id === '' || id !== expectedId) throw reject('invalid');
  const issueInstant = attr(assertion, 'IssueInstant');
  if (issueInstant === undefined) throw reject('invalid');
  return { id, issueInstant: parseSamlInstant(issueInstant) };
}
