import { checkPasswordLogin, type PasswordLoginDeps } from '../accounts/password-login.ts';
import { OAuthError } from '../common/oauth-error.ts';
import { grantedScope } from '../common/scope.ts';
import type { Grant, GrantDecision, GrantRequest } from './grant.ts';

/**
 * A user's email and password as a login. The seed's form is `client_credentials` with `email`
 * and `password` (grants/client-credentials-grant.ts decides when that is meant); the standard
 * resource-owner form (`password` with `username`, RFC 6749 §4.3) is accepted beside it for
 * OAuth client libraries.
 */
export async function decidePasswordLogin(
  deps: PasswordLoginDeps,
  { params, client, endOtherSessions, audience, context }: GrantRequest,
  form: 'seed' | 'rfc6749',
): Promise<GrantDecision> {
  const emailParam = form === 'seed' ? 'email' : 'username';
  const email = params.get(emailParam);
  const password = params.get('password');
  if (email === undefined || password === undefined) {
    throw new OAuthError('invalid_request', `The parameters ${emailParam} and password are required.`);
  }

  // seed: parameters may come from the query string, so a password there is accepted — unless
  // the client opted out (--no-query-secrets): URLs end up in proxy and access logs.
  if (!client.querySecrets && params.fromQuery('password')) {
    throw new OAuthError('invalid_request', 'This client does not accept the password in the query string; send it in the form body.');
  }

  // Contract §5: checked before the password, so a bad scope costs no password verification.
  const scope = grantedScope(params.get('scope'), client.scopes.join(' '));
  const user = await checkPasswordLogin(deps, { email, password, clientId: client.id, context });
  if (!user) throw new OAuthError('invalid_grant', 'The email or password is incorrect.');

  return {
    kind: 'login',
    login: {
      user,
      client,
      grantType: 'password',
      endOtherSessions,
      // Contract §3: outside the code flow, the first registered redirect URL.
      redirectUrl: client.redirectUrls[0] ?? '',
      // seed: the refresh token is "only sent for Authorization Code flow".
      issueRefreshToken: false,
      scope,
      audience,
    },
  };
}

/** RFC 6749 §4.3, the standard resource-owner password form. */
export function passwordGrant(deps: PasswordLoginDeps): Grant {
  return {
    grantTypes: ['password'],
    decide: (request) => decidePasswordLogin(deps, request, 'rfc6749'),
  };
}
