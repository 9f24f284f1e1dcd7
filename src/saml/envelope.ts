import type { Document, Element } from '@xmldom/xmldom';
import { attr, childrenNamed, is, isElement, onlyChild } from './dom.ts';
import { MAX_ATTRIBUTES_PER_ELEMENT, MAX_COMMENTS_AND_PIS, MAX_DEPTH, MAX_ELEMENTS, MAX_NODES } from './limits.ts';
import { NS_ASSERTION, NS_DSIG, NS_PROTOCOL, STATUS_SUCCESS } from './names.ts';
import { reject } from './reject.ts';

export type SamlForm = 'response' | 'assertion' | 'either';

/**
 * Where things sit in the document as received, before any signature is checked. Nothing here is
 * trusted for identity; it only says which signatures to check and what they must cover.
 */
export interface Envelope {
  /** The `<samlp:Response>` root, when the document is a Response. */
  response: Element | undefined;
  /** The one `<saml:Assertion>`: the root, or the Response's only Assertion child. */
  assertion: Element;
  /** `<ds:Signature>` child of the Response, if any. */
  responseSignature: Element | undefined;
  /** `<ds:Signature>` child of the Assertion, if any. */
  assertionSignature: Element | undefined;
}

const ID_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(['ID', 'Id', 'id']);

const COMMENT_NODE = 8;
const PROCESSING_INSTRUCTION_NODE = 7;

/**
 * Checks the document's shape and finds the elements whose signatures must be verified.
 *
 * The rules are deliberately narrower than what XML-DSig allows, because every XML Signature
 * Wrapping (XSW) variant needs one of: a second element with the signed ID, a second assertion
 * (before, after, around, or inside Advice/Extensions/Object), or a signature that is not the
 * direct child of the element it signs.
 */
export function readEnvelope(doc: Document, form: SamlForm): Envelope {
  const root = doc.documentElement;
  if (root === null) throw reject('not_xml');
  const isResponse = is(root, NS_PROTOCOL, 'Response');
  const isAssertion = is(root, NS_ASSERTION, 'Assertion');
  // RFC 7522 §2.1 carries one Assertion; SAMLResponse (saml-bindings §3.5.4) carries a Response.
  if (!(isResponse && form !== 'assertion') && !(isAssertion && form !== 'response')) {
    throw reject('not_xml');
  }

  const seenIds = new Set<string>();
  let assertionCount = 0;
  let encryptedCount = 0;
  const signatures: Element[] = [];
  const stack: Element[] = [root];
  const depths: number[] = [1];
  let elements = 0;
  let nodes = 0;
  let extras = 0;
  for (let el = stack.pop(), depth = depths.pop() ?? 1; el !== undefined; el = stack.pop(), depth = depths.pop() ?? 1) {
    elements++;
    const attributes = el.attributes;
    if (depth > MAX_DEPTH || elements > MAX_ELEMENTS || attributes.length > MAX_ATTRIBUTES_PER_ELEMENT) {
      throw reject('too_large');
    }
    for (let i = 0; i < attributes.length; i++) {
      const a = attributes.item(i);
      if (a === null || !ID_ATTRIBUTE_NAMES.has(a.localName ?? a.name)) continue;
      // XML Signature resolves a same-document reference by ID value (and xml-crypto also by Id
      // and id, in any namespace). Two holders of one value let the checked and the read element
      // differ, which is the core of signature wrapping; saml-core §1.3.4 requires IDs be unique.
      if (seenIds.has(a.value)) throw reject('duplicate_id');
      seenIds.add(a.value);
    }
    // Any namespace: an "Assertion" hidden under a foreign namespace has no business here either.
    if (el.localName === 'Assertion') assertionCount++;
    else if (el.localName === 'EncryptedAssertion') encryptedCount++;
    else if (is(el, NS_DSIG, 'Signature')) signatures.push(el);
    for (let n = el.lastChild; n !== null; n = n.previousSibling) {
      nodes++;
      if (isElement(n)) {
        stack.push(n);
        depths.push(depth + 1);
      } else if (n.nodeType === COMMENT_NODE || n.nodeType === PROCESSING_INSTRUCTION_NODE) {
        extras++;
      }
    }
    if (nodes > MAX_NODES || extras > MAX_COMMENTS_AND_PIS) throw reject('too_large');
  }

  // RFC 7522 §2.1: the grant carries a single SAML 2.0 Assertion. More than one (including ones
  // nested in Advice) is refused rather than choosing among them.
  if (assertionCount + encryptedCount > 1) throw reject('multiple_assertions');
  // RFC 7522 §3 (item 10) lets encrypted elements stand in for plaintext ones, but this server
  // holds no decryption key, so it cannot validate an EncryptedAssertion at all.
  if (encryptedCount > 0) throw reject('invalid');

  let assertion: Element;
  if (isResponse) {
    const found = childrenNamed(root, NS_ASSERTION, 'Assertion');
    if (found.length !== 1) {
      // An IdP error response carries no assertion; name its status when that is the cause.
      throw reject(assertionCount === 0 && !hasSuccessStatus(root) ? 'status_not_success' : 'invalid');
    }
    assertion = found[0] as Element;
  } else {
    assertion = root;
  }

  let responseSignature: Element | undefined;
  let assertionSignature: Element | undefined;
  for (const sig of signatures) {
    const parent = sig.parentNode;
    // saml-core §5.4.1/§5.4.2: the signature is enveloped in the element it signs, which must be
    // the Response or the Assertion. A Signature anywhere else is never checked, so refuse it
    // instead of letting it sit next to content that looks signed.
    if (isResponse && parent === root && responseSignature === undefined) responseSignature = sig;
    else if (parent === assertion && assertionSignature === undefined) assertionSignature = sig;
    else throw reject('signature_invalid');
  }

  return { response: isResponse ? root : undefined, assertion, responseSignature, assertionSignature };
}

/** Status/StatusCode/@Value of a Response element is the Success URI (saml-core §3.2.2.2). */
export function hasSuccessStatus(response: Element): boolean {
  const status = onlyChild(response, NS_PROTOCOL, 'Status');
  if (status == null) return false;
  const code = onlyChild(status, NS_PROTOCOL, 'StatusCode');
  return code != null && attr(code, 'Value') === STATUS_SUCCESS;
}
