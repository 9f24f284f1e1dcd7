/** Shared helpers of the SAML verifier tests (not a test file itself). */
import assert from 'node:assert/strict';
import type { Document, Element } from '@xmldom/xmldom';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import type { SamlRejectReason, SamlVerifyInput, VerifiedAssertion } from '../../src/saml/verify-saml.ts';
import { SamlRejection, verifySamlBearer } from '../../src/saml/verify-saml.ts';
import { b64, DEFAULT_AUDIENCE, DEFAULT_EMAIL, DEFAULT_RECIPIENT, NS, registry, testIdp } from '../support/test-idp.ts';

/** The instant every test IdP document is issued at, and the verifier's clock. */
export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
export const ATTACKER_EMAIL = 'mallory@evil.example';

export function input(encoded: string, over: Partial<SamlVerifyInput> = {}): SamlVerifyInput {
  return {
    encoded,
    form: 'response',
    findIdp: registry(),
    audiences: [DEFAULT_AUDIENCE, DEFAULT_RECIPIENT],
    recipient: DEFAULT_RECIPIENT,
    now: NOW,
    ...over,
  };
}

/** Verifies XML (base64-encoded here) and returns the result; fails the test on rejection. */
export async function accepts(xml: string, over: Partial<SamlVerifyInput> = {}): Promise<VerifiedAssertion> {
  return verifySamlBearer(input(b64(xml), over));
}

/** Asserts that verification is refused with exactly `reason`. */
export async function rejects(xml: string, reason: SamlRejectReason, over: Partial<SamlVerifyInput> = {}): Promise<void> {
  await rejectsEncoded(b64(xml), reason, over);
}

export async function rejectsEncoded(encoded: string, reason: SamlRejectReason, over: Partial<SamlVerifyInput> = {}): Promise<void> {
  await assert.rejects(verifySamlBearer(input(encoded, over)), (err: unknown) => {
    assert.ok(err instanceof SamlRejection, `expected SamlRejection, got ${String(err)}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

export type Outcome = { rejected: SamlRejectReason } | { accepted: VerifiedAssertion };

/** Runs the verifier and reports what happened; any non-SamlRejection error fails the test. */
export async function outcome(xml: string, over: Partial<SamlVerifyInput> = {}): Promise<Outcome> {
  try {
    return { accepted: await verifySamlBearer(input(b64(xml), over)) };
  } catch (err) {
    assert.ok(err instanceof SamlRejection, `non-SamlRejection escaped: ${String(err)}`);
    return { rejected: err.reason };
  }
}

/**
 * The security property of every attack test: the document is refused, or what comes out is
 * exactly the identity the IdP signed — never the attacker's.
 */
export function assertRejectedOrOriginal(result: Outcome, original: { email?: string; assertionId: string; issuer?: string }): void {
  if ('rejected' in result) return;
  assert.deepEqual(
    { email: result.accepted.email, assertionId: result.accepted.assertionId, issuer: result.accepted.issuer },
    { email: original.email ?? DEFAULT_EMAIL, assertionId: original.assertionId, issuer: original.issuer ?? testIdp().entityId },
  );
}

export function parseXml(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml');
}

export function serialize(doc: Document | Element): string {
  return new XMLSerializer().serializeToString(doc);
}

export function childElements(el: Element): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

export function child(el: Element, ns: string, localName: string): Element {
  const found = childElements(el).find((c) => c.localName === localName && c.namespaceURI === ns);
  assert.ok(found, `no ${localName} child`);
  return found;
}

export function assertionOf(doc: Document): Element {
  const root = doc.documentElement as Element;
  return root.localName === 'Assertion' ? root : child(root, NS.saml, 'Assertion');
}

/** Replaces the NameID text (what an attacker wants to change). */
export function setNameId(assertion: Element, email: string): void {
  const nameId = child(child(assertion, NS.saml, 'Subject'), NS.saml, 'NameID');
  while (nameId.firstChild !== null) nameId.removeChild(nameId.firstChild);
  const doc = nameId.ownerDocument;
  assert.ok(doc !== null);
  nameId.appendChild(doc.createTextNode(email));
}

export function signatureOf(el: Element): Element {
  return child(el, NS.ds, 'Signature');
}

export function removeSignature(el: Element): Element {
  const sig = signatureOf(el);
  el.removeChild(sig);
  return sig;
}
