import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.ts';
import { hashSecret } from '../../crypto/secrets.ts';
import { securityEvent } from '../../domain/event-log.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { Store } from '../../store/store.ts';
import { findPresentedToken } from './introspection-route.ts';
import { authenticatedRequest } from '../request-params.ts';

/**
 * RFC 7009 token revocation, which is also logout: revoking either token of a session ends the
 * session and so revokes all its tokens (§2.1: for a refresh token the server SHOULD invalidate
 * the access tokens of the same grant; for an access token it MAY revoke the refresh token).
 * That frees the user's session slot, which the seed's "concurrent user" limit counts.
 */
export function registerRevocationRoute(app: FastifyInstance, deps: { store: Store; clock: Clock }): void {
  app.post('/oauth/revoke', async (request) => {
    const { params, client } = await authenticatedRequest(request, deps.store);
    const token = params.require('token');

    const found = await findPresentedToken(deps.store, token, params.get('token_type_hint'));
    // RFC 7009 §2.2: "invalid tokens do not cause an error response".
    if (!found) return {};
    const { record, kind } = found;
    // RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the revocation request".
    if (record.session.clientId !== client.id) {
      throw new OAuthError('unauthorized_client', 'The token was not issued to this client.');
    }
    const now = deps.clock.now();
    await deps.store.transaction(async (tx) => {
      if (kind === 'access_token') await tx.revokeAccessToken(hashSecret(token), now);
      if (await tx.endSession(record.sessionId, 'logout', now)) {
        await tx.insertEvent(
          securityEvent('session_ended', now, {
            ip: request.ip,
            requestId: request.id,
            clientId: client.id,
            userId: record.session.userId,
            email: record.email,
            sessionId: record.sessionId,
            reason: 'logout',
          }),
        );
      }
    });
    return {};
  });
}
