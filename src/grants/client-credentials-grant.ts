import type { PasswordLoginDeps } from '../accounts/password-login.ts';
import { grantedScope } from '../common/scope.ts';
import type { ServiceTokenIssuer } from '../tokens/service-token-issuer.ts';
import type { Grant } from './grant.ts';
import { decidePasswordLogin } from './password-grant.ts';

/**
 * `grant_type=client_credentials`, which means two things, and this is the one place that
 * decides between them:
 *
 * - with `email` or `password` (either one): the seed's user login, for every client —
 *   seed: grant_type=client_credentials carries a user's email and password (not RFC 6749 §4.4);
 * - with neither: RFC 6749 §4.4, a token for the client itself — only for a client registered
 *   as a service (contract §8); for any other client it stays `invalid_request`, as before.
 */
export function clientCredentialsGrant(deps: { passwordLogin: PasswordLoginDeps; serviceTokens: ServiceTokenIssuer }): Grant {
  return {
    grantTypes: ['client_credentials'],
    async decide(request) {
      const { params, client, audience, context } = request;
      const userLogin = params.get('email') !== undefined || params.get('password') !== undefined;
      if (userLogin || client.kind !== 'service') return decidePasswordLogin(deps.passwordLogin, request, 'seed');
      // RFC 6749 §4.4.2: scope is OPTIONAL; contract §5: none means all the client's scopes.
      const scope = grantedScope(params.get('scope'), client.scopes.join(' '));
      return { kind: 'issued', tokens: await deps.serviceTokens.issue(client, { scope, audience }, context) };
    },
  };
}
