/**
 * SAML 2.0 bearer assertion verifier for the RFC 7522 grant (and the SAMLResponse / SAMLAssertion
 * parameters). Pipeline, cheapest refusals first:
 *
 *  1. decode.ts        base64/base64url, size bound, strict UTF-8
 *  2. xml-guard.ts     refuse any DTD / entity declaration on the raw text, then one strict parse
 *  3. envelope.ts      shape: root kind, exactly one Assertion, unique IDs, Signatures only on
 *                      the Response or the Assertion (this alone stops XSW1–XSW8)
 *  4. issuer.ts        unverified Issuer, only to find the IdP's registered certificates
 *  5. signature.ts     per-signature policy (algorithms, one Reference to the parent, transforms),
 *                      then xml-crypto verification with registered certificates only
 *  6. signed-content   parse what the signatures cover; everything below reads only that
 *  7. response-checks, conditions, bearer-confirmation, subject-email: RFC 7522 §3 and saml-core
 *
 * Why xml-crypto directly rather than node-saml's SAML class: node-saml reads the wall clock
 * (`new Date()`) for every time check, accepts one audience, needs a Response root, does not
 * expose the signed Response bytes (only the assertion), and parses the document at least four
 * times (DOM, xml-crypto, signed bytes, xml2js) with its own xmldom copy. Its signature rules (`getVerifiedXml`) are reproduced, stricter,
 * in signature.ts; the cryptography is xml-crypto's in both cases.
 */
import { checkAssertionHeader } from './assertion-header.ts';
import { checkBearerConfirmation } from './bearer-confirmation.ts';
import { checkConditions } from './conditions.ts';
import { decodeSamlParameter } from './decode.ts';
import { attr, onlyChild } from './dom.ts';
import type { SamlForm } from './envelope.ts';
import { readEnvelope } from './envelope.ts';
import { readAssertionIssuer, readIssuer } from './issuer.ts';
import { NS_ASSERTION } from './names.ts';
import { reject, SamlRejection } from './reject.ts';
import { checkResponse } from './response-checks.ts';
import { planSignatures, verifySignedContent } from './signed-content.ts';
import { readSubjectEmail } from './subject-email.ts';
import { latestAcceptance, type ValidityClock } from './validity-window.ts';
import { parseStrictXml, refuseMarkupDeclarations } from './xml-guard.ts';

export type { SamlRejectReason } from './reject.ts';
export { SamlRejection } from './reject.ts';

export interface TrustedIdp {
  entityId: string;
  /** PEM X.509 certificates; one, or two during a key rollover. Only these verify signatures. */
  certificates: string[];
}

export interface SamlVerifyInput {
  /** The raw parameter value as received (base64 or base64url text). */
  encoded: string;
  /** SAMLResponse must be a Response root, SAMLAssertion an Assertion root, `assertion` (RFC 7522) either. */
  form: SamlForm;
  /**
   * Looks up a registered IdP by the document's Issuer text; `undefined` → `unknown_issuer`.
   * Its own errors (a store outage) are rethrown unchanged: they are not a verdict on the document.
   */
  findIdp(issuer: string): Promise<TrustedIdp | undefined>;
  /** Acceptable Audience values (server issuer and token endpoint URL). */
  audiences: string[];
  /** Token endpoint URL: SubjectConfirmationData/@Recipient must equal it; Response/@Destination, when present, too. */
  recipient: string;
  /** Epoch ms (injected clock). */
  now: number;
  /** Default 60_000. */
  clockSkewMs?: number;
  /** Decoded size limit; default 65_536. */
  maxBytes?: number;
  /** Default false: SHA-1 signatures and digests are refused. */
  allowSha1?: boolean;
  /**
   * Browser SSO at an assertion consumer service (saml-profiles §4.1.4.3): the ID of the
   * AuthnRequest this Response must answer. The Response (form `response` only) must then carry
   * Destination, and this value must be named by signed content (the signed Response's
   * InResponseTo or the signed assertion's bearer SubjectConfirmationData); any other
   * InResponseTo is refused. Unset (the bearer grant): any InResponseTo is refused.
   */
  inResponseTo?: string;
  /**
   * The caller's cap on an assertion's lifetime (ms). Only used to compute `acceptableUntil`
   * (IssueInstant + this is one of the instants it covers); the cap itself is the caller's policy.
   */
  maxLifetimeMs?: number;
}

export interface VerifiedAssertion {
  /** IdP entity id (from the signed assertion). */
  issuer: string;
  /** The signed Assertion's ID, for the replay cache. */
  assertionId: string;
  /** Subject email from signed content, trimmed. */
  email: string;
  /**
   * Epoch ms: the earliest NotOnOrAfter that applies now (Conditions and the bearer confirmation
   * used): the assertion's effective expiry, for lifetime policies. Not the replay horizon: see
   * `acceptableUntil`.
   */
  notOnOrAfter: number;
  /**
   * Epoch ms: the latest instant at which any part of the assertion could still be accepted (every
   * bearer confirmation's NotOnOrAfter, Conditions/@NotOnOrAfter, IssueInstant + `maxLifetimeMs`).
   * Keep `assertionId` in the replay cache until `acceptableUntil + clockSkewMs`: a later attempt may
   * be honoured through a confirmation that expires later than the one used now.
   */
  acceptableUntil: number;
}

const DEFAULT_CLOCK_SKEW_MS = 60_000;
const DEFAULT_MAX_BYTES = 65_536;

/**
 * Verifies a SAML 2.0 bearer assertion (RFC 7522) or a Response carrying one, and returns the
 * identity it asserts. Every refusal is a {@link SamlRejection}; nothing else escapes except
 * errors thrown by `findIdp` itself and `TypeError` for invalid options (caller bugs).
 *
 * Signatures are verified with xml-crypto against the registered certificates only; identity and
 * every checked value are then read from the canonical XML that the verified signature covers
 * (`getSignedReferences()`), never from the document as received.
 */
export async function verifySamlBearer(input: SamlVerifyInput): Promise<VerifiedAssertion> {
  const options = readOptions(input);
  try {
    return await verify(input, options);
  } catch (err) {
    if (err instanceof SamlRejection) throw err;
    if (err instanceof IdpLookupFailure) throw err.original;
    // A library failure on hostile input is still a refusal; its text may quote the document,
    // so it is dropped rather than attached.
    throw new SamlRejection('invalid');
  }
}

interface Options {
  clock: ValidityClock;
  maxBytes: number;
  allowSha1: boolean;
  maxLifetimeMs: number | undefined;
}

function readOptions(input: SamlVerifyInput): Options {
  const skewMs = input.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const maxBytes = input.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isFinite(input.now)) throw new TypeError('now must be a finite epoch-ms number');
  if (!Number.isFinite(skewMs) || skewMs < 0) throw new TypeError('clockSkewMs must be a non-negative number');
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new TypeError('maxBytes must be a positive integer');
  if (input.form !== 'response' && input.form !== 'assertion' && input.form !== 'either') {
    throw new TypeError('form must be response, assertion or either');
  }
  if (
    input.inResponseTo !== undefined &&
    (typeof input.inResponseTo !== 'string' || input.inResponseTo === '' || input.form !== 'response')
  ) {
    throw new TypeError('inResponseTo must be a non-empty string, with form response');
  }
  const maxLifetimeMs = input.maxLifetimeMs;
  if (maxLifetimeMs !== undefined && (!Number.isFinite(maxLifetimeMs) || maxLifetimeMs < 0)) {
    throw new TypeError('maxLifetimeMs must be a non-negative number');
  }
  return { clock: { now: input.now, skewMs }, maxBytes, allowSha1: input.allowSha1 === true, maxLifetimeMs };
}

class IdpLookupFailure {
  readonly original: unknown;
  constructor(original: unknown) {
    this.original = original;
  }
}

async function verify(input: SamlVerifyInput, options: Options): Promise<VerifiedAssertion> {
  const text = decodeSamlParameter(input.encoded, options.maxBytes);
  refuseMarkupDeclarations(text);
  const envelope = readEnvelope(parseStrictXml(text), input.form);

  // Unverified at this point: used only to pick the keys, then re-read from signed content.
  const issuer = readAssertionIssuer(envelope.assertion);
  // saml-profiles §4.1.4.2: a Response Issuer, when present, is the IdP that issued the
  // assertions it carries; disagreeing issuers are refused before any key is looked up.
  const responseIssuer = envelope.response === undefined ? undefined : readIssuer(envelope.response);
  if (responseIssuer !== undefined && responseIssuer !== issuer) throw reject('issuer_mismatch');

  const plan = planSignatures(envelope, options.allowSha1);

  const idp = await lookup(input, issuer);
  const certificates = idp.certificates.filter((c) => typeof c === 'string' && c.length > 0);
  if (certificates.length === 0) throw reject('signature_invalid');
  const { assertion, response, responseSigned } = verifySignedContent(text, envelope, plan, certificates);

  // ---- From here on, only signed content (plus an unsigned Response envelope, which is only
  // ---- ever a reason to refuse, never a source of identity).
  const { id, issueInstant } = checkAssertionHeader(assertion, attr(envelope.assertion, 'ID') ?? '');
  // The keys were chosen by the unverified Issuer; the signed one must name the same IdP.
  const signedIssuer = readAssertionIssuer(assertion);
  if (signedIssuer !== issuer) throw reject('issuer_mismatch');
  if (response !== undefined) checkResponse(response, input.recipient, signedIssuer, input.inResponseTo);

  const conditionsExpiry = checkConditions(assertion, input.audiences, options.clock);
  const subject = onlyChild(assertion, NS_ASSERTION, 'Subject');
  // RFC 7522 §3 (item 3): the Assertion MUST contain a Subject (saml-core §2.3.3: at most one).
  if (subject === undefined) throw reject('no_subject');
  if (subject === null) throw reject('invalid');
  const confirmation = checkBearerConfirmation(subject, input.recipient, options.clock, conditionsExpiry, input.inResponseTo);
  if (input.inResponseTo !== undefined) {
    // saml-profiles §4.1.4.3 / §4.1.5: an unsolicited response is not accepted here, and the
    // request it answers must be named where the IdP's signature covers it: an unsigned
    // Response's InResponseTo could be pasted around a signed assertion from another sign-in.
    const signedAnswer = responseSigned && response !== undefined && attr(response, 'InResponseTo') === input.inResponseTo;
    if (!signedAnswer && !confirmation.answersRequest) {
      const named = response?.hasAttribute('InResponseTo') === true || confirmation.answersRequest;
      throw reject(named ? 'in_response_to_mismatch' : 'unsolicited');
    }
  }
  const email = readSubjectEmail(assertion, subject);

  return {
    issuer: signedIssuer,
    assertionId: id,
    email,
    notOnOrAfter: Math.min(conditionsExpiry ?? Number.POSITIVE_INFINITY, confirmation.notOnOrAfter),
    acceptableUntil: latestAcceptance({
      confirmationExpiries: confirmation.allNotOnOrAfter,
      conditionsNotOnOrAfter: conditionsExpiry,
      issueInstant,
      maxLifetimeMs: options.maxLifetimeMs,
    }),
  };
}

async function lookup(input: SamlVerifyInput, issuer: string): Promise<TrustedIdp> {
  let idp: TrustedIdp | undefined;
  try {
    idp = await input.findIdp(issuer);
  } catch (err) {
    throw new IdpLookupFailure(err);
  }
  // The registry answered for this exact entity id, or it is not registered.
  if (idp === undefined || idp === null || idp.entityId !== issuer || !Array.isArray(idp.certificates)) {
    throw reject('unknown_issuer');
  }
  return idp;
}
