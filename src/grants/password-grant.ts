import { checkPasswordLogin, type PasswordLoginDeps } from '../accounts/password-login.ts';
import { OAuthError } from '../common/oauth-error.ts';
import type { Grant, GrantRequest } from './grant.ts';

/**
 * A user's email and password. The seed names it `client_credentials` with `email` and
 * `password`; the standard resource-owner form (`password` with `username`, RFC 6749 §4.3) is
 * accepted beside it for OAuth client libraries.
 */
export function passwordGrant(deps: PasswordLoginDeps): Grant {
  return {
    // seed: grant_type=client_credentials carries a user's email and password (not RFC 6749 §4.4).
    grantTypes: ['client_credentials', 'password'],
    async decide({ params, client, endOtherSessions, context }: GrantRequest) {
      const seedForm = params.get('grant_type') === 'client_credentials';
      const emailParam = seedForm ? 'email' : 'username';
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
        },
      };
    },
  };
}
