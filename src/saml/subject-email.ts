import type { Element } from '@xmldom/xmldom';
import { attr, childrenNamed, onlyChild, textOnly } from './dom.ts';
import { EMAIL_ATTRIBUTE_NAMES, NAMEID_FORMAT_EMAIL, NAMEID_FORMAT_UNSPECIFIED, NS_ASSERTION } from './names.ts';
import { reject } from './reject.ts';

const MAX_EMAIL_LENGTH = 320;
/** One `@`, non-empty parts, no whitespace, control characters or address-list punctuation. */
const EMAIL_SHAPE = /^[^\s\p{Cc}@"<>()[\]\\,;:]+@[^\s\p{Cc}@"<>()[\]\\,;:]+$/u;

/**
 * The subject's email, from the signed assertion only.
 *
 * 1. `<saml:NameID>` whose Format is emailAddress, or unspecified/absent with a value that is an
 *    address (saml-core §8.3.2 / §8.3.1);
 * 2. otherwise the one distinct value of the `email`, `mail` or
 *    `urn:oid:0.9.2342.19200300.100.1.3` attributes.
 *
 * Values must be text only (CVE-2017-11428: never a prefix of a value split by a comment or an
 * element); they are trimmed, not otherwise normalized.
 */
export function readSubjectEmail(assertion: Element, subject: Element): string {
  const nameId = onlyChild(subject, NS_ASSERTION, 'NameID');
  // saml-core §2.4.1: a Subject has at most one identifier.
  if (nameId === null) throw reject('invalid');
  if (nameId !== undefined) {
    const format = attr(nameId, 'Format');
    if (format === undefined || format === NAMEID_FORMAT_EMAIL || format === NAMEID_FORMAT_UNSPECIFIED) {
      const text = textOnly(nameId);
      if (text === null) throw reject('no_subject');
      const email = text.trim();
      if (isEmail(email)) return email;
    }
  }

  const values = new Set<string>();
  for (const statement of childrenNamed(assertion, NS_ASSERTION, 'AttributeStatement')) {
    for (const attribute of childrenNamed(statement, NS_ASSERTION, 'Attribute')) {
      const name = attr(attribute, 'Name');
      if (name === undefined || !EMAIL_ATTRIBUTE_NAMES.has(name.toLowerCase())) continue;
      for (const value of childrenNamed(attribute, NS_ASSERTION, 'AttributeValue')) {
        const text = textOnly(value);
        if (text === null) throw reject('no_subject');
        if (text.trim() !== '') values.add(text.trim());
      }
    }
  }
  // Several different addresses for one subject: refuse rather than pick one.
  if (values.size !== 1) throw reject('no_subject');
  const [email] = values as unknown as [string];
  if (!isEmail(email)) throw reject('no_subject');
  return email;
}

function isEmail(value: string): boolean {
  return value.length <= MAX_EMAIL_LENGTH && EMAIL_SHAPE.test(value);
}
