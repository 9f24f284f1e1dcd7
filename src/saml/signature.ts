import type { Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { certificateBody, preferredSigner, publicKeyOf, rememberSigner } from './certificate-keys.ts';
import { attr, elementChildren, is, textOnly } from './dom.ts';
import {
  CANONICALIZATIONS,
  NS_DSIG,
  SHA1_DIGEST,
  SHA1_RSA_SIGNATURE,
  SHA1_SIGNATURE_ALGORITHMS,
  STRONG_DIGEST_ALGORITHMS,
  STRONG_SIGNATURE_ALGORITHMS,
  TRANSFORM_ENVELOPED,
} from './names.ts';
import { reject } from './reject.ts';

const NS_EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const RSA_PSS_SHA256 = 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1';
/** node-saml's limit too: enveloped-signature plus one canonicalization is all SAML needs. */
const MAX_TRANSFORMS = 2;

/** The SignedInfo algorithms the policy approved; xml-crypto must end up using exactly these. */
export interface ApprovedSignature {
  canonicalization: string;
  signatureAlgorithm: string;
}

/**
 * Checks what a `<ds:Signature>` may look like before any cryptography runs: the shape SAML
 * prescribes and the algorithms this server accepts. Throws `weak_algorithm`,
 * `unsupported_algorithm` or `signature_invalid`.
 *
 * These are the rules node-saml's `getVerifiedXml` applies (one Reference, to the parent, at most
 * two transforms), made stricter: no `<ds:Object>` (the XSW8 hiding place), one SignedInfo
 * layout, and allow-lists for every algorithm URI.
 */
export function checkSignaturePolicy(signature: Element, signedElement: Element, allowSha1: boolean): ApprovedSignature {
  const parts = dsigChildren(signature);
  const [signedInfo, signatureValue, keyInfo, ...rest] = parts;
  if (
    signedInfo === undefined ||
    signedInfo.localName !== 'SignedInfo' ||
    signatureValue === undefined ||
    signatureValue.localName !== 'SignatureValue' ||
    (keyInfo !== undefined && keyInfo.localName !== 'KeyInfo') ||
    rest.length > 0
  ) {
    throw reject('signature_invalid');
  }

  const [c14nMethod, signatureMethod, reference, ...more] = dsigChildren(signedInfo);
  // saml-core §5.4.2: signatures MUST contain a single <ds:Reference>.
  if (
    c14nMethod?.localName !== 'CanonicalizationMethod' ||
    signatureMethod?.localName !== 'SignatureMethod' ||
    reference?.localName !== 'Reference' ||
    more.length > 0
  ) {
    throw reject('signature_invalid');
  }
  const canonicalization = attr(c14nMethod, 'Algorithm') ?? '';
  if (!CANONICALIZATIONS.has(canonicalization)) throw reject('signature_invalid');
  onlyInclusiveNamespaces(c14nMethod);
  const signatureAlgorithm = attr(signatureMethod, 'Algorithm') ?? '';
  checkAlgorithm(signatureAlgorithm, STRONG_SIGNATURE_ALGORITHMS, SHA1_SIGNATURE_ALGORITHMS, allowSha1 ? SHA1_RSA_SIGNATURE : undefined);
  // No parameters are defined for the accepted algorithms; nothing may hide inside these
  // elements (xml-crypto finds algorithm URIs by a descendant search).
  if (elementChildren(signatureMethod).length > 0) throw reject('signature_invalid');

  // saml-core §5.4.2: the Reference is a same-document reference to the ID of the root element
  // of the assertion or message being signed, i.e. the Signature's own parent.
  const id = attr(signedElement, 'ID');
  if (id === undefined || id === '' || attr(reference, 'URI') !== `#${id}`) throw reject('signature_invalid');

  const refParts = dsigChildren(reference);
  const transforms = refParts[0]?.localName === 'Transforms' ? refParts.shift() : undefined;
  const [digestMethod, digestValue, ...after] = refParts;
  if (digestMethod?.localName !== 'DigestMethod' || digestValue?.localName !== 'DigestValue' || after.length > 0) {
    throw reject('signature_invalid');
  }
  checkAlgorithm(
    attr(digestMethod, 'Algorithm') ?? '',
    STRONG_DIGEST_ALGORITHMS,
    new Set([SHA1_DIGEST]),
    allowSha1 ? SHA1_DIGEST : undefined,
  );
  if (elementChildren(digestMethod).length > 0) throw reject('signature_invalid');

  if (transforms !== undefined) {
    const list = dsigChildren(transforms);
    if (list.length === 0 || list.length > MAX_TRANSFORMS) throw reject('signature_invalid');
    for (const t of list) {
      const algorithm = attr(t, 'Algorithm') ?? '';
      // saml-core §5.4.4: signatures SHOULD NOT contain transforms other than enveloped-signature
      // and (exclusive) canonicalization; anything else (XPath, XSLT) is refused.
      if (t.localName !== 'Transform' || (algorithm !== TRANSFORM_ENVELOPED && !CANONICALIZATIONS.has(algorithm))) {
        throw reject('signature_invalid');
      }
      onlyInclusiveNamespaces(t);
    }
  }
  return { canonicalization, signatureAlgorithm };
}

function onlyInclusiveNamespaces(el: Element): void {
  for (const child of elementChildren(el)) {
    if (!is(child, NS_EXC_C14N, 'InclusiveNamespaces')) throw reject('signature_invalid');
  }
}

/**
 * Verifies the enveloped signature with the registered certificates only, and returns the
 * canonical XML that the signature covers: the only bytes identity may be read from.
 *
 * KeyInfo is never trusted (`getCertFromKeyInfo` returns nothing), so a document signed by any
 * other key, with its own certificate embedded, fails here. Each registered certificate is tried
 * in turn (two during a key rollover). Which one is tried first is only a cost decision (each
 * failed attempt is a full xml-crypto pass): the one whose copy is embedded in KeyInfo, else the
 * one that verified last for this certificate set.
 */
export function verifyEnvelopedSignature(
  xml: string,
  signature: Element,
  approved: ApprovedSignature,
  certificates: readonly string[],
): string {
  const sig = new SignedXml({ getCertFromKeyInfo: () => null });
  try {
    sig.loadSignature(signature);
  } catch {
    throw reject('signature_invalid');
  }
  // What xml-crypto read must be what the policy approved, or the policy checked something else.
  if (sig.signatureAlgorithm !== approved.signatureAlgorithm || sig.canonicalizationAlgorithm !== approved.canonicalization) {
    throw reject('signature_invalid');
  }
  // xml-crypto's RSA-PSS verifier only takes PEM text; the others take a pre-parsed key.
  const needsPem = sig.signatureAlgorithm === RSA_PSS_SHA256;
  for (const cert of tryOrder(certificates, embeddedCertificate(signature))) {
    const key = needsPem ? cert : publicKeyOf(cert);
    if (key === null) continue;
    sig.publicCert = key;
    let valid = false;
    try {
      valid = sig.checkSignature(xml);
    } catch {
      // xml-crypto throws for a wrong key or a bad digest; the next certificate may still match.
      valid = false;
    }
    if (!valid) continue;
    // saml-core §5.4.2: exactly one reference; what it covers is all that was authenticated.
    const signed = sig.getSignedReferences();
    if (signed.length !== 1 || typeof signed[0] !== 'string') throw reject('signature_invalid');
    rememberSigner(certificates, cert);
    return signed[0];
  }
  throw reject('signature_invalid');
}

function tryOrder(certificates: readonly string[], embedded: string | undefined): readonly string[] {
  if (certificates.length < 2) return certificates;
  const first =
    (embedded === undefined ? undefined : certificates.find((c) => certificateBody(c) === embedded)) ?? preferredSigner(certificates);
  return first === undefined ? certificates : [first, ...certificates.filter((c) => c !== first)];
}

/** KeyInfo/X509Data/X509Certificate text, whitespace removed; an ordering hint, never trusted. */
function embeddedCertificate(signature: Element): string | undefined {
  const keyInfo = elementChildren(signature).find((el) => is(el, NS_DSIG, 'KeyInfo'));
  const data = keyInfo === undefined ? undefined : elementChildren(keyInfo).find((el) => is(el, NS_DSIG, 'X509Data'));
  const cert = data === undefined ? undefined : elementChildren(data).find((el) => is(el, NS_DSIG, 'X509Certificate'));
  const text = cert === undefined ? null : textOnly(cert);
  return text === null ? undefined : text.replace(/\s+/g, '');
}

function dsigChildren(el: Element): Element[] {
  const children = elementChildren(el);
  for (const c of children) {
    if (c.namespaceURI !== NS_DSIG) throw reject('signature_invalid');
  }
  return children;
}

/**
 * An algorithm URI outside the allow-list is refused with the reason that sends the operator to the
 * right fix: SHA-1 is `weak_algorithm`; any other named algorithm (a SHA-384 digest, ECDSA, HMAC)
 * is `unsupported_algorithm` — the IdP must be switched to one we verify, the certificate on file
 * is not at fault. Only a missing Algorithm is a malformed signature (`signature_invalid`).
 */
function checkAlgorithm(uri: string, strong: ReadonlySet<string>, weak: ReadonlySet<string>, allowedWeak: string | undefined): void {
  if (strong.has(uri) || (allowedWeak !== undefined && uri === allowedWeak)) return;
  if (uri === '') throw reject('signature_invalid');
  // Product rule: SHA-1 signatures and digests are refused by default (chosen-prefix collisions).
  throw reject(weak.has(uri) ? 'weak_algorithm' : 'unsupported_algorithm');
}
