import type { TokenService } from '../domain/token-service.ts';
import { OAuthError } from '../errors/oauth-error.ts';
import type { Grant } from './grant.ts';

/** RFC 6749 §6, with rotation and reuse detection in TokenService.refresh. */
export function refreshTokenGrant(deps: { tokens: TokenService }): Grant {
  return {
    grantTypes: ['refresh_token'],
    async handle({ params, client, context }) {
      const token = params.require('refresh_token');
      if (!client.refreshTokens) {
        throw new OAuthError('unauthorized_client', 'This client is not allowed refresh tokens.');
      }
      return deps.tokens.refresh(client, token, context);
    },
  };
}
