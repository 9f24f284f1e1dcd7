import type { Element } from '@xmldom/xmldom';
import { attr, childrenNamed, is } from './dom.ts';
import type { Envelope } from './envelope.ts';
import { NS_ASSERTION, NS_PROTOCOL } from './names.ts';
import { reject } from './reject.ts';
import type { ApprovedSignature } from './signature.ts';
import { checkSignaturePolicy, verifyEnvelopedSignature } from './signature.ts';
import { parseStrictXml } from './xml-guard.ts';

/** The envelope's signatures, each already approved by the signature policy. */
export interface SignaturePlan {
  response?: { signature: Element; approved: ApprovedSignature };
  assertion?: { signature: Element; approved: ApprovedSignature };
}

/** What the verified signatures cover, parsed: the only elements identity is read from. */
export interface SignedContent {
  /** The Assertion, from signed bytes. */
  assertion: Element;
  /** The Response: from signed bytes when it is signed, else the unsigned envelope (or none). */
  response: Element | undefined;
  /** Whether `response` comes from signed bytes (its attributes can then be trusted). */
  responseSigned: boolean;
}

/**
 * Applies the signature policy to every signature in the envelope (before any key lookup, so a
 * weak algorithm is reported as such). RFC 7522 §3 (item 9): the Assertion MUST be signed; here
 * either it or the Response carrying it.
 */
export function planSignatures(envelope: Envelope, allowSha1: boolean): SignaturePlan {
  const plan: SignaturePlan = {};
  if (envelope.response !== undefined && envelope.responseSignature !== undefined) {
    plan.response = {
      signature: envelope.responseSignature,
      approved: checkSignaturePolicy(envelope.responseSignature, envelope.response, allowSha1),
    };
  }
  if (envelope.assertionSignature !== undefined) {
    plan.assertion = {
      signature: envelope.assertionSignature,
      approved: checkSignaturePolicy(envelope.assertionSignature, envelope.assertion, allowSha1),
    };
  }
  if (plan.response === undefined && plan.assertion === undefined) throw reject('signature_missing');
  return plan;
}

/**
 * Verifies every planned signature with the registered certificates and returns the signed
 * Assertion (and Response). RFC 7522 §3 (item 9): an invalid signature MUST be rejected; every
 * signature present must verify, so an Assertion with a broken signature cannot ride inside a
 * validly signed Response.
 */
export function verifySignedContent(text: string, envelope: Envelope, plan: SignaturePlan, certificates: readonly string[]): SignedContent {
  const assertionId = attr(envelope.assertion, 'ID') ?? '';
  const signedResponseXml =
    plan.response === undefined ? undefined : verifyEnvelopedSignature(text, plan.response.signature, plan.response.approved, certificates);
  const signedAssertionXml =
    plan.assertion === undefined
      ? undefined
      : verifyEnvelopedSignature(text, plan.assertion.signature, plan.assertion.approved, certificates);

  if (signedResponseXml !== undefined && envelope.response !== undefined) {
    // A signed Response covers its Assertion too (including that one's own Signature, verified
    // above): read both from the Response's signed bytes, which is one parse instead of two.
    const response = signedRoot(signedResponseXml, NS_PROTOCOL, 'Response', attr(envelope.response, 'ID') ?? '');
    const inner = childrenNamed(response, NS_ASSERTION, 'Assertion');
    if (inner.length !== 1) throw reject('multiple_assertions');
    const assertion = inner[0] as Element;
    if (attr(assertion, 'ID') !== assertionId) throw reject('signature_invalid');
    return { assertion, response, responseSigned: true };
  }
  if (signedAssertionXml !== undefined) {
    return {
      assertion: signedRoot(signedAssertionXml, NS_ASSERTION, 'Assertion', assertionId),
      response: envelope.response,
      responseSigned: false,
    };
  }
  throw reject('signature_missing');
}

/** Parses what a verified signature covers and checks it is the element that was expected. */
function signedRoot(canonicalXml: string, ns: string, localName: string, id: string): Element {
  const root = parseStrictXml(canonicalXml).documentElement;
  if (root === null || !is(root, ns, localName) || id === '' || attr(root, 'ID') !== id) {
    throw reject('signature_invalid');
  }
  return root;
}
