import { emailDomain } from '../accounts/email.ts';
import { issueAuthorizationCode } from '../authorize/authorization-code.ts';
import type { AuthorizeRequest } from '../authorize/authorize-request.ts';
import { redirectWith } from '../authorize/authorize-request.ts';
import type { Clock } from '../clock.ts';
import { constantTimeEqual, hashSecret, randomBase64url } from '../crypto/secrets.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import { MappingRejection, mapSamlUser } from '../idps/saml-user-mapping.ts';
import type { SpSigningKey } from '../keys/sp-signing-key.ts';
import { buildAuthnRequest } from '../saml/authn-request.ts';
import { SamlRejection } from '../saml/reject.ts';
import { spMetadataXml } from '../saml/sp-metadata.ts';
import { type TrustedIdp, type VerifiedAssertion, verifySamlBearer } from '../saml/verify-saml.ts';
import type { BrowserSessions } from '../sessions/browser-sessions.ts';
import type { Idp, SamlRequest, Store } from '../store/store.ts';
import { SsoRefusal, type SsoRefusalReason } from './sso-refusal.ts';

/**
 * SP-initiated browser single sign-on (contract §10; saml-profiles §4.1, Web Browser SSO): the
 * login page hands over an email whose domain belongs to an IdP with an SSO URL; this sends the
 * browser there with an AuthnRequest and remembers, server-side, the authorize request to
 * continue. The IdP's Response comes back to the ACS, is checked by the same verifier as the
 * bearer grant (in its ACS mode), and the authorize request ends as the password login's does:
 * an authorization code on the client's redirect URI. The session starts when the code is
 * exchanged, through LoginIssuer, with the session limit and endOtherSessions of that request.
 */
export interface BrowserSsoDeps {
  store: Store;
  clock: Clock;
  /** the SP entity id and audience */
  issuer: string;
  clockSkewMs: number;
  maxAssertionLifetimeMs: number;
  /** signs AuthnRequests to IdPs that want them signed; its certificate is in the metadata */
  spSigningKey: Pick<SpSigningKey, 'get'>;
  /** contract §11: a sign-in through the IdP starts a browser session, as a password sign-in does */
  browserSessions: Pick<BrowserSessions, 'signedIn'>;
}

/** How long a person has at the IdP before the pending sign-in is gone (and its RelayState with it). */
export const SSO_REQUEST_TTL_MS = 10 * 60_000;

/** The RelayState handle: 32 random bytes, base64url (43 characters; saml-bindings §3.4.3 allows 80 bytes). */
const HANDLE = /^[A-Za-z0-9_-]{43}$/;
/** The browser-binding cookie's nonce, same shape. */
export const BROWSER_NONCE = HANDLE;

export class BrowserSso {
  readonly acsUrl: string;
  private readonly deps: BrowserSsoDeps;

  constructor(deps: BrowserSsoDeps) {
    this.deps = deps;
    this.acsUrl = `${deps.issuer}/saml/acs`;
  }

  /**
   * GET /saml/metadata: what an IdP administrator imports. It always carries the SP signing
   * certificate (made on the first request), so that an IdP can be switched to signed requests
   * without re-importing; AuthnRequestsSigned says whether any IdP gets them signed today.
   */
  async metadata(): Promise<string> {
    const { certificatePem } = await this.deps.spSigningKey.get();
    const authnRequestsSigned = (await this.deps.store.idps.list()).some((idp) => idp.signRequests === true);
    return spMetadataXml({ entityId: this.deps.issuer, acsUrl: this.acsUrl, signingCertificatePem: certificatePem, authnRequestsSigned });
  }

  /** A fresh nonce for the browser-binding cookie. */
  newBrowserNonce(): string {
    return randomBase64url(32);
  }

  /** The IdP that signs in this email's domain through the browser, if there is one. */
  async idpForEmail(email: string): Promise<Idp | undefined> {
    const trimmed = email.trim();
    if (!trimmed.includes('@') || trimmed.length > 320) return undefined;
    const idp = await this.deps.store.idps.findByDomain(emailDomain(trimmed));
    return idp?.ssoUrl ? idp : undefined;
  }

  /**
   * Records the pending authorize request and returns where to send the browser. The RelayState is
   * an opaque random handle (never the request itself, never a URL: cloudfoundry/uaa#4014); the row
   * is keyed by its hash and bound to the browser by the hash of the cookie's nonce.
   */
  async start(input: {
    idp: Idp;
    authorize: AuthorizeRequest;
    scope: string | undefined;
    browserNonce: string;
  }): Promise<{ redirectUrl: string }> {
    if (!input.idp.ssoUrl) throw new TypeError('start: the IdP has no SSO URL');
    if (!BROWSER_NONCE.test(input.browserNonce)) throw new TypeError('start: malformed browser nonce');
    const now = this.deps.clock.now();
    const handle = randomBase64url(32);
    const signingKey = input.idp.signRequests === true ? (await this.deps.spSigningKey.get()).privateKey : undefined;
    const request = buildAuthnRequest({
      issuer: this.deps.issuer,
      destination: input.idp.ssoUrl,
      acsUrl: this.acsUrl,
      now,
      relayState: handle,
      signingKey,
    });
    const { authorize } = input;
    await this.deps.store.samlRequests.create({
      handleHash: hashSecret(handle),
      requestId: request.id,
      idpId: input.idp.id,
      browserHash: hashSecret(input.browserNonce),
      clientId: authorize.client.id,
      redirectUri: authorize.redirectUri,
      redirectUriGiven: authorize.redirectUriGiven,
      state: authorize.state ?? null,
      codeChallenge: authorize.codeChallenge,
      scope: input.scope ?? null,
      nonce: authorize.nonce,
      expiresAt: now + SSO_REQUEST_TTL_MS,
      usedAt: null,
      createdAt: now,
    });
    return { redirectUrl: request.redirectUrl };
  }

  /**
   * The ACS: checks the response against the pending request its RelayState names, then issues the
   * authorization code. Returns the client redirect (code, state, iss); throws {@link SsoRefusal}
   * after recording the reason. Store failures are rethrown (503), never a verdict on the response.
   */
  async finish(input: {
    samlResponse: string | undefined;
    relayState: string | undefined;
    browserNonce: string | undefined;
    context: EventContext;
  }): Promise<{ redirectUrl: string; clientId: string; browserSessionCookie: string | undefined }> {
    const { store, clock } = this.deps;
    let context = input.context;
    const refuse = async (reason: SsoRefusalReason, fields: { userId?: string; email?: string } = {}): Promise<SsoRefusal> => {
      const event = securityEvent('saml_rejected', clock.now(), { ...context, reason, ...fields });
      await store.events.create(event);
      return new SsoRefusal(reason, event.id);
    };

    if (input.samlResponse === undefined || input.relayState === undefined) throw await refuse('missing_parameters');
    if (!HANDLE.test(input.relayState)) throw await refuse('relay_state_unknown');
    const handleHash = hashSecret(input.relayState);
    const pending = await store.samlRequests.find(handleHash);
    if (!pending) throw await refuse('relay_state_unknown');
    context = { ...context, clientId: pending.clientId };
    // The response must arrive in the browser that started the sign-in: without this, a response
    // obtained by an attacker for their own account could be posted from the victim's browser
    // (login CSRF), and a leaked RelayState would let anyone finish someone else's sign-in.
    if (input.browserNonce === undefined || !constantTimeEqual(hashSecret(input.browserNonce), pending.browserHash)) {
      throw await refuse('browser_mismatch');
    }
    const now = clock.now();
    if (pending.usedAt !== null) throw await refuse('relay_state_reused');
    if (pending.expiresAt <= now) throw await refuse('request_expired');
    // Single use, spent before the document is even read: a replayed or raced POST of the same
    // RelayState is refused, whatever it carries, on every instance.
    if (!(await store.samlRequests.consume(handleHash, now))) throw await refuse('relay_state_reused');

    const idp = await store.idps.find(pending.idpId);
    if (!idp) throw await refuse('unknown_issuer');
    const verified = await this.verify(idp, pending, input.samlResponse, refuse);
    // As the bearer grant: an assertion valid for far longer than a sign-in needs is refused.
    if (verified.notOnOrAfter - now > this.deps.maxAssertionLifetimeMs) throw await refuse('lifetime_too_long');

    let user;
    try {
      user = await mapSamlUser(this.deps, idp, verified.email, context);
    } catch (error) {
      if (error instanceof MappingRejection) throw await refuse(error.reason, { email: verified.email });
      throw error;
    }
    const client = await store.clients.find(pending.clientId);
    if (!client || client.disabled) throw await refuse('client_disabled', { userId: user.id });

    const issued = await store.transaction(async (tx) => {
      // saml-profiles §4.1.4.5: the assertion id is remembered (the same record the bearer grant
      // uses) until no part of the assertion could be accepted any more, so it is used once.
      const keepUntil = verified.acceptableUntil + this.deps.clockSkewMs;
      if (!(await tx.replay.claim(verified.issuer, verified.assertionId, keepUntil))) return undefined;
      // The cross-site POST carries no SameSite=Lax cookie, so this is always a new browser session.
      const browser = await this.deps.browserSessions.signedIn(tx, user, undefined, context);
      const code = await issueAuthorizationCode(tx, now, {
        clientId: client.id,
        userId: user.id,
        redirectUri: pending.redirectUri,
        redirectUriGiven: pending.redirectUriGiven,
        codeChallenge: pending.codeChallenge,
        // Granted when the sign-in started (contract §5); narrowed to what the client may still be granted.
        scope: (pending.scope ?? '')
          .split(' ')
          .filter((s) => s !== '' && client.scopes.includes(s))
          .join(' '),
        browserSessionId: browser.session.id,
        authTime: browser.session.authTime,
        nonce: pending.nonce ?? null,
      });
      return { code, cookie: browser.cookie };
    });
    if (issued === undefined) throw await refuse('replayed', { userId: user.id });
    // RFC 6749 §4.1.2 and RFC 9207, as the password login: code, state as received, iss.
    return {
      clientId: client.id,
      redirectUrl: redirectWith(pending.redirectUri, { code: issued.code, state: pending.state ?? undefined, iss: this.deps.issuer }),
      browserSessionCookie: issued.cookie,
    };
  }

  private async verify(
    idp: Idp,
    pending: SamlRequest,
    samlResponse: string,
    refuse: (reason: SsoRefusalReason) => Promise<SsoRefusal>,
  ): Promise<VerifiedAssertion> {
    const { store, clock } = this.deps;
    try {
      return await verifySamlBearer({
        encoded: samlResponse,
        // saml-bindings §3.5.4: the HTTP-POST binding carries a Response.
        form: 'response',
        inResponseTo: pending.requestId,
        // saml-profiles §4.1.4.2: the audience is our entity id; Recipient and Destination the ACS URL.
        audiences: [this.deps.issuer],
        recipient: this.acsUrl,
        now: clock.now(),
        clockSkewMs: this.deps.clockSkewMs,
        maxLifetimeMs: this.deps.maxAssertionLifetimeMs,
        // Only the IdP this sign-in was sent to may answer it: another registered IdP's signed
        // response, even for a user it may vouch for, is not the answer to this request.
        findIdp: async (issuer): Promise<TrustedIdp | undefined> => {
          if (issuer !== idp.entityId) return undefined;
          const certificates = (await store.idps.listCertificates(idp.id)).map((c) => c.pem);
          return { entityId: idp.entityId, certificates };
        },
      });
    } catch (error) {
      if (error instanceof SamlRejection) throw await refuse(error.reason);
      throw error;
    }
  }
}
