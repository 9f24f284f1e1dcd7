import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';
import type { RequestParams } from '../common/request-params.ts';
import { grantedScope } from '../common/scope.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import { MappingRejection, mapSamlUser } from '../idps/saml-user-mapping.ts';
import { SamlRejection } from '../saml/reject.ts';
import { type SamlVerifyInput, type TrustedIdp, verifySamlBearer } from '../saml/verify-saml.ts';
import { SAML_REJECTED_MESSAGE } from '../sessions/consumables.ts';
import type { Idp, Store, User } from '../store/store.ts';
import type { Grant } from './grant.ts';

export interface SamlBearerGrantDeps {
  store: Store;
  clock: Clock;
  issuer: string;
  clockSkewMs: number;
  /** Assertions valid for longer than this from now are refused (default 1 hour). */
  maxAssertionLifetimeMs: number;
}

// seed: the grant type is "urn:ietf:params:oauth:client-assertion-type:saml2-bearer" (a client-assertion URN used as a grant type).
export const SEED_SAML_GRANT = 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer';
/** RFC 7522 §2.1, the standard name, with the `assertion` parameter. */
export const RFC7522_SAML_GRANT = 'urn:ietf:params:oauth:grant-type:saml2-bearer';

/**
 * SSO login with a SAML 2.0 assertion signed by the organization's IdP. The verifier decides
 * whether the document is trustworthy and whose it is; this grant maps that identity to a user
 * of the IdP's organization (creating one with --jit), records the assertion id against replay
 * in the same transaction that starts the session, and issues tokens like the password login.
 */
export function samlBearerGrant(deps: SamlBearerGrantDeps): Grant {
  const tokenEndpoint = `${deps.issuer}/oauth/token`;

  function readAssertionParameter(
    grantType: string,
    params: RequestParams,
    querySecrets: boolean,
  ): Pick<SamlVerifyInput, 'encoded' | 'form'> {
    // A signed assertion is a bearer credential: a client that opted out of secrets in the
    // query string (--no-query-secrets) must send it in the form body.
    for (const name of ['assertion', 'SAMLResponse', 'SAMLAssertion']) {
      if (!querySecrets && params.fromQuery(name)) {
        throw new OAuthError('invalid_request', `This client does not accept ${name} in the query string; send it in the form body.`);
      }
    }
    const get = (name: string) => params.get(name);
    if (grantType === RFC7522_SAML_GRANT) {
      // RFC 7522 §2.1: "The value of the "assertion" parameter MUST contain a single SAML 2.0 Assertion."
      const assertion = get('assertion');
      if (assertion === undefined) throw new OAuthError('invalid_request', 'The parameter assertion is required.');
      return { encoded: assertion, form: 'either' };
    }
    // seed: "a signed SAMLResponse object or a signed SAMLAssertion object", one of the two.
    const response = get('SAMLResponse');
    const assertion = get('SAMLAssertion');
    if ((response === undefined) === (assertion === undefined)) {
      throw new OAuthError('invalid_request', 'Send exactly one of SAMLResponse or SAMLAssertion.');
    }
    return response !== undefined ? { encoded: response, form: 'response' } : { encoded: assertion!, form: 'assertion' };
  }

  async function reject(context: EventContext, reason: string, fields: { userId?: string; email?: string } = {}): Promise<OAuthError> {
    await deps.store.events.create(securityEvent('saml_rejected', deps.clock.now(), { ...context, reason, ...fields }));
    // RFC 7522 §3.1: an invalid assertion is answered with invalid_grant. The precise reason goes
    // to the security event log only; the response never echoes the document.
    return new OAuthError('invalid_grant', SAML_REJECTED_MESSAGE);
  }

  return {
    grantTypes: [SEED_SAML_GRANT, RFC7522_SAML_GRANT],
    async decide({ params, client, endOtherSessions, audience, context }) {
      const { encoded, form } = readAssertionParameter(params.get('grant_type')!, params, client.querySecrets);
      // Contract §5: checked before the signature, so a bad scope costs no verification.
      const scope = grantedScope(params.get('scope'), client.scopes.join(' '));
      let idp: Idp | undefined;
      let verified;
      try {
        verified = await verifySamlBearer({
          encoded,
          form,
          audiences: [deps.issuer, tokenEndpoint],
          recipient: tokenEndpoint,
          now: deps.clock.now(),
          clockSkewMs: deps.clockSkewMs,
          maxLifetimeMs: deps.maxAssertionLifetimeMs,
          findIdp: async (issuer): Promise<TrustedIdp | undefined> => {
            idp = await deps.store.idps.findByEntityId(issuer);
            if (!idp) return undefined;
            const certificates = (await deps.store.idps.listCertificates(idp.id)).map((c) => c.pem);
            return { entityId: idp.entityId, certificates };
          },
        });
      } catch (error) {
        if (error instanceof SamlRejection) throw await reject(context, error.reason);
        // Not a verdict on the document: the store failed (503) or a bug (500).
        throw error;
      }
      if (!idp || idp.entityId !== verified.issuer) throw await reject(context, 'unknown_issuer');
      // A bearer assertion is meant to be used at once; one valid for days is a standing
      // credential (and would pin its replay-cache row as long). RFC 7522 §3: the server
      // "MAY reject assertions with an expiration time that is unreasonably far in the future".
      if (verified.notOnOrAfter - deps.clock.now() > deps.maxAssertionLifetimeMs) throw await reject(context, 'lifetime_too_long');

      let user: User;
      try {
        user = await mapSamlUser(deps, idp, verified.email, context);
      } catch (error) {
        if (error instanceof MappingRejection) throw await reject(context, error.reason, { email: verified.email });
        throw error;
      }

      return {
        kind: 'login',
        login: {
          user,
          client,
          grantType: 'saml2-bearer',
          endOtherSessions,
          redirectUrl: client.redirectUrls[0] ?? '',
          issueRefreshToken: false,
          scope,
          audience,
          // Spent only if the session really starts: a refused login (session limit) leaves the
          // assertion usable for a retry with endOtherSessions=true. Kept until no part of the
          // assertion could be accepted any more (every confirmation, Conditions, IssueInstant +
          // the lifetime cap), plus the allowed skew, so pruning never reopens it.
          consume: {
            kind: 'saml_assertion',
            issuer: verified.issuer,
            assertionId: verified.assertionId,
            keepUntil: verified.acceptableUntil + deps.clockSkewMs,
          },
        },
      };
    },
  };
}
