/**
 * A test-only SAML 2.0 identity provider: it builds and signs fresh Assertions and Responses with
 * xml-crypto, using the TEST-ONLY key pairs committed under `test/fixtures/saml/` (see the README
 * there; never use them outside tests).
 *
 * Every builder takes {@link AssertionOptions}; defaults produce a document that
 * `verifySamlBearer` accepts when called with {@link DEFAULT_AUDIENCE}, {@link DEFAULT_RECIPIENT},
 * the same `now`, and `findIdp` from {@link registry}. Tests change one option to break one rule.
 *
 * The XML is built as text on purpose (not through a DOM): attack tests need byte-level control,
 * and a builder that "fixes" its input would hide the very mistakes they look for.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Element } from '@xmldom/xmldom';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

export type TestIdpName = 'primary' | 'secondary' | 'attacker' | 'expired';

export interface TestIdp {
  /** Entity id the IdP puts in `<saml:Issuer>` by default. */
  entityId: string;
  /** PEM X.509 certificate (self-signed, CN=TEST-ONLY ...). */
  certPem: string;
  /** PEM PKCS#8 RSA-2048 private key. */
  keyPem: string;
}

const ENTITY_IDS: Readonly<Record<TestIdpName, string>> = {
  primary: 'https://idp.test.example/saml',
  secondary: 'https://idp2.test.example/saml',
  attacker: 'https://attacker.test.example/saml',
  expired: 'https://expired-idp.test.example/saml',
};

const cache = new Map<TestIdpName, TestIdp>();

/**
 * The named test IdP (loaded once per process).
 * - `primary`: the usual registered IdP.
 * - `secondary`: a second key pair; register its cert next to primary's to test rollover, or
 *   use it as a second IdP.
 * - `attacker`: never registered; its signatures must be refused.
 * - `expired`: a certificate valid only from 2020-01-01 to 2021-01-01 (for registration tests).
 */
export function testIdp(name: TestIdpName = 'primary'): TestIdp {
  let idp = cache.get(name);
  if (idp === undefined) {
    const dir = new URL('../fixtures/saml/', import.meta.url);
    idp = {
      entityId: ENTITY_IDS[name],
      certPem: readFileSync(new URL(`test-only-${name}.cert.pem`, dir), 'utf8'),
      keyPem: readFileSync(new URL(`test-only-${name}.key.pem`, dir), 'utf8'),
    };
    cache.set(name, idp);
  }
  return idp;
}

/** A `findIdp` for `verifySamlBearer` that knows the given IdPs (default: primary only). */
export function registry(
  ...idps: Array<{ entityId: string; certificates: string[] }>
): (issuer: string) => Promise<{ entityId: string; certificates: string[] } | undefined> {
  const list = idps.length > 0 ? idps : [{ entityId: testIdp().entityId, certificates: [testIdp().certPem] }];
  return async (issuer) => list.find((i) => i.entityId === issuer);
}

export const DEFAULT_AUDIENCE = 'https://auth.test.example';
export const DEFAULT_RECIPIENT = 'https://auth.test.example/oauth/token';
export const DEFAULT_EMAIL = 'alice@example.com';

export const NS = {
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

export const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
export const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

export interface AssertionOptions {
  /** Signing key pair (default primary). */
  idp?: TestIdp;
  /** `<saml:Issuer>` text (default `idp.entityId`). */
  issuer?: string;
  /** NameID value, XML-escaped (default alice@example.com). */
  email?: string;
  /** Raw XML placed inside `<saml:NameID>` instead of `email`, unescaped (comment-injection tests). */
  nameIdInnerXml?: string;
  /** NameID Format (default emailAddress); `null` omits the attribute. */
  nameIdFormat?: string | null;
  /** Omit `<saml:NameID>` altogether. */
  omitNameId?: boolean;
  /** Adds an AttributeStatement with an `email` attribute of this value. */
  attributesEmail?: string;
  /** Adds a `groups` attribute with these values (realistic large documents). */
  groups?: string[];
  /** Audience (default DEFAULT_AUDIENCE). */
  audience?: string;
  /** SubjectConfirmationData/@Recipient (default DEFAULT_RECIPIENT). */
  recipient?: string;
  /** Epoch ms the IdP believes it is (default Date.now()). */
  now?: number;
  /** Conditions/@NotBefore (default now - 60 s). */
  notBefore?: number;
  /** Conditions/@NotOnOrAfter and SubjectConfirmationData/@NotOnOrAfter (default now + 5 min). */
  notOnOrAfter?: number;
  /** SubjectConfirmationData/@NotOnOrAfter only (default `notOnOrAfter`). */
  confirmationNotOnOrAfter?: number;
  /** Drop every NotOnOrAfter (Conditions and SubjectConfirmationData). */
  omitNotOnOrAfter?: boolean;
  /** Assertion ID (default random). */
  id?: string;
  /** SubjectConfirmation Method (default bearer). */
  method?: string;
  /** More bearer SubjectConfirmations after the first, each with its own NotOnOrAfter (and Recipient, default DEFAULT_RECIPIENT). */
  extraConfirmations?: Array<{ notOnOrAfter: number; recipient?: string }>;
  /** SubjectConfirmationData/@InResponseTo. */
  inResponseTo?: string;
  /** Raw XML appended inside `<saml:Conditions>` (e.g. an unknown condition). */
  extraConditions?: string;
  /** Sign with rsa-sha1 and sha1 digests. */
  sha1?: boolean;
  /** SignatureMethod URI (default rsa-sha256; `sha1` overrides). */
  signatureAlgorithm?: string;
  /** DigestMethod URI (default sha256; `sha1` overrides); SHA-384 (`SHA384_DIGEST`) is available too, as Lasso uses it. */
  digestAlgorithm?: string;
  /** Put the signer's certificate in KeyInfo (default true, as real IdPs do). */
  includeKeyInfoCert?: boolean;
}

export interface ResponseOptions extends AssertionOptions {
  /** Response/@Destination (default DEFAULT_RECIPIENT); `null` omits it. */
  destination?: string | null;
  /** Top-level StatusCode value (default Success). */
  status?: string;
  /** Response `<saml:Issuer>` (default the assertion issuer); `null` omits it. */
  responseIssuer?: string | null;
  /** Response ID (default random). */
  responseId?: string;
  /** Response/@InResponseTo. */
  responseInResponseTo?: string;
  /** `signedResponse` only: sign the assertion as well (default false). */
  signAssertionToo?: boolean;
}

export function newId(): string {
  return `_${randomBytes(16).toString('hex')}`;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function instant(ms: number): string {
  return new Date(ms).toISOString();
}

/** The unsigned `<saml:Assertion>` text; namespaces are declared on the Assertion itself. */
export function assertionXml(o: AssertionOptions = {}): string {
  const idp = o.idp ?? testIdp();
  const now = o.now ?? Date.now();
  const id = o.id ?? newId();
  const issuer = o.issuer ?? idp.entityId;
  const notBefore = o.notBefore ?? now - 60_000;
  const notOnOrAfter = o.notOnOrAfter ?? now + 5 * 60_000;
  const expiry = o.omitNotOnOrAfter === true ? '' : ` NotOnOrAfter="${instant(notOnOrAfter)}"`;
  const confirmationExpiry = o.omitNotOnOrAfter === true ? '' : ` NotOnOrAfter="${instant(o.confirmationNotOnOrAfter ?? notOnOrAfter)}"`;
  const format = o.nameIdFormat === null ? '' : ` Format="${xmlEscape(o.nameIdFormat ?? EMAIL_FORMAT)}"`;
  const nameIdContent = o.nameIdInnerXml ?? xmlEscape(o.email ?? DEFAULT_EMAIL);
  const nameId = o.omitNameId === true ? '' : `<saml:NameID${format}>${nameIdContent}</saml:NameID>`;
  const inResponseTo = o.inResponseTo === undefined ? '' : ` InResponseTo="${xmlEscape(o.inResponseTo)}"`;
  const emailAttribute =
    o.attributesEmail === undefined
      ? ''
      : '<saml:Attribute Name="email" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">' +
        `<saml:AttributeValue xsi:type="xs:string">${xmlEscape(o.attributesEmail)}</saml:AttributeValue></saml:Attribute>`;
  const groupsAttribute =
    o.groups === undefined
      ? ''
      : '<saml:Attribute Name="groups">' +
        o.groups.map((g) => `<saml:AttributeValue xsi:type="xs:string">${xmlEscape(g)}</saml:AttributeValue>`).join('') +
        '</saml:Attribute>';
  const attributes =
    emailAttribute === '' && groupsAttribute === ''
      ? ''
      : `<saml:AttributeStatement>${emailAttribute}${groupsAttribute}</saml:AttributeStatement>`;
  return (
    `<saml:Assertion xmlns:saml="${NS.saml}" xmlns:xs="http://www.w3.org/2001/XMLSchema" ` +
    `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="${xmlEscape(id)}" Version="2.0" IssueInstant="${instant(now)}">` +
    `<saml:Issuer>${xmlEscape(issuer)}</saml:Issuer>` +
    `<saml:Subject>${nameId}` +
    `<saml:SubjectConfirmation Method="${xmlEscape(o.method ?? BEARER)}">` +
    `<saml:SubjectConfirmationData${confirmationExpiry} Recipient="${xmlEscape(o.recipient ?? DEFAULT_RECIPIENT)}"${inResponseTo}/>` +
    '</saml:SubjectConfirmation>' +
    (o.extraConfirmations ?? [])
      .map(
        (c) =>
          `<saml:SubjectConfirmation Method="${BEARER}"><saml:SubjectConfirmationData NotOnOrAfter="${instant(c.notOnOrAfter)}" ` +
          `Recipient="${xmlEscape(c.recipient ?? DEFAULT_RECIPIENT)}"/></saml:SubjectConfirmation>`,
      )
      .join('') +
    '</saml:Subject>' +
    `<saml:Conditions NotBefore="${instant(notBefore)}"${expiry}>` +
    `<saml:AudienceRestriction><saml:Audience>${xmlEscape(o.audience ?? DEFAULT_AUDIENCE)}</saml:Audience></saml:AudienceRestriction>` +
    `${o.extraConditions ?? ''}</saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${instant(now)}" SessionIndex="${newId()}">` +
    '<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>' +
    `</saml:AuthnStatement>${attributes}</saml:Assertion>`
  );
}

export interface SignOptions {
  idp?: TestIdp;
  sha1?: boolean;
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
  includeKeyInfoCert?: boolean;
}

/** XML-DSig more (RFC 6931 §2.1.2): the SHA-384 digest, which xml-crypto does not ship; Lasso signs with it. */
export const SHA384_DIGEST = 'http://www.w3.org/2001/04/xmldsig-more#sha384';

class Sha384 {
  getHash(xml: string): string {
    return createHash('sha384').update(xml, 'utf8').digest('base64');
  }
  getAlgorithmName(): string {
    return SHA384_DIGEST;
  }
}

/**
 * Signs the element whose `ID` is `id` inside `xml` with an enveloped, exclusive-C14N signature
 * placed right after that element's `<saml:Issuer>` (or first, if it has none). Usable on any
 * document, so attack tests can sign exactly what they want.
 */
export function signElement(xml: string, id: string, o: SignOptions = {}): string {
  const target = `//*[@ID='${id}']`;
  const hasIssuer = firstChildName(xml, id) === 'Issuer';
  const sig = new SignedXml({
    privateKey: (o.idp ?? testIdp()).keyPem,
    publicCert: o.includeKeyInfoCert === false ? undefined : (o.idp ?? testIdp()).certPem,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    signatureAlgorithm:
      o.sha1 === true
        ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'
        : (o.signatureAlgorithm ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'),
  });
  // Only the signer learns SHA-384: the verifier under test keeps xml-crypto's own list.
  sig.HashAlgorithms[SHA384_DIGEST] = Sha384;
  sig.addReference({
    xpath: target,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm:
      o.sha1 === true ? 'http://www.w3.org/2000/09/xmldsig#sha1' : (o.digestAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#sha256'),
  });
  sig.computeSignature(xml, {
    prefix: 'ds',
    // saml-core schema order: the Signature follows the Issuer, or comes first without one.
    location: hasIssuer ? { reference: `${target}/*[local-name()='Issuer']`, action: 'after' } : { reference: target, action: 'prepend' },
  });
  return sig.getSignedXml();
}

/** Local name of the first child element of the element with that ID. */
function firstChildName(xml: string, id: string): string | undefined {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const stack: Element[] = doc.documentElement === null ? [] : [doc.documentElement];
  for (let el = stack.pop(); el !== undefined; el = stack.pop()) {
    const children = Array.from(el.childNodes).filter((n): n is Element => n.nodeType === 1);
    if (el.getAttribute('ID') === id) return children[0]?.localName ?? undefined;
    stack.push(...children);
  }
  return undefined;
}

function signOptions(o: AssertionOptions): SignOptions {
  return {
    idp: o.idp,
    sha1: o.sha1,
    signatureAlgorithm: o.signatureAlgorithm,
    digestAlgorithm: o.digestAlgorithm,
    includeKeyInfoCert: o.includeKeyInfoCert,
  };
}

/** A bare signed `<saml:Assertion>` (the RFC 7522 `assertion` parameter form). */
export function signedAssertion(o: AssertionOptions = {}): string {
  const id = o.id ?? newId();
  return signElement(assertionXml({ ...o, id }), id, signOptions(o));
}

/** Wraps assertion text (signed or not) in a `<samlp:Response>`; nothing is signed here. */
export function responseXml(assertion: string, o: ResponseOptions = {}): string {
  const idp = o.idp ?? testIdp();
  const now = o.now ?? Date.now();
  const destination = o.destination === null ? '' : ` Destination="${xmlEscape(o.destination ?? DEFAULT_RECIPIENT)}"`;
  const inResponseTo = o.responseInResponseTo === undefined ? '' : ` InResponseTo="${xmlEscape(o.responseInResponseTo)}"`;
  const issuerText = o.responseIssuer === undefined ? (o.issuer ?? idp.entityId) : o.responseIssuer;
  const issuer = issuerText === null ? '' : `<saml:Issuer>${xmlEscape(issuerText)}</saml:Issuer>`;
  return (
    `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${xmlEscape(o.responseId ?? newId())}" ` +
    `Version="2.0" IssueInstant="${instant(now)}"${destination}${inResponseTo}>` +
    `${issuer}<samlp:Status><samlp:StatusCode Value="${xmlEscape(o.status ?? SUCCESS)}"/></samlp:Status>` +
    `${assertion}</samlp:Response>`
  );
}

/** An unsigned Response around a signed Assertion (the most common IdP output). */
export function responseWithSignedAssertion(o: ResponseOptions = {}): string {
  return responseXml(signedAssertion(o), o);
}

/** A signed Response around an unsigned (or, with `signAssertionToo`, signed) Assertion. */
export function signedResponse(o: ResponseOptions = {}): string {
  const assertion = o.signAssertionToo === true ? signedAssertion(o) : assertionXml(o);
  const responseId = o.responseId ?? newId();
  return signElement(responseXml(assertion, { ...o, responseId }), responseId, signOptions(o));
}

/** Nothing signed at all. */
export function unsignedResponse(o: ResponseOptions = {}): string {
  return responseXml(assertionXml(o), o);
}

export const b64 = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64');
export const b64url = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64url');
