import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';
import type { EventContext } from '../events/security-event.ts';
import type { JwtSigner } from '../keys/jwt-signer.ts';
import { endSession } from '../sessions/session-ending.ts';
import type { Client, Store } from '../store/store.ts';
import { findPresentedToken } from './token-lookup.ts';

/**
 * RFC 7009 token revocation, which is also logout: revoking either token of a session ends the
 * session and so revokes all its tokens (§2.1: for a refresh token the server SHOULD invalidate
 * the access tokens of the same grant; for an access token it MAY revoke the refresh token).
 * That frees the user's session slot, which the seed's "concurrent user" limit counts. A service
 * client's own token (contract §8) has no session: only that token is revoked.
 */
export class TokenRevocation {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly signer: JwtSigner;

  constructor(deps: { store: Store; clock: Clock; signer: JwtSigner }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.signer = deps.signer;
  }

  async revoke(client: Client, token: string, hint: string | undefined, context: EventContext): Promise<void> {
    const found = await findPresentedToken(this.store, this.signer, token, hint);
    // RFC 7009 §2.2: "invalid tokens do not cause an error response".
    if (!found) return;
    const owner = found.kind === 'service_token' ? found.record.clientId : found.record.session.clientId;
    // RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the revocation request".
    if (owner !== client.id) throw new OAuthError('unauthorized_client', 'The token was not issued to this client.');
    const now = this.clock.now();
    if (found.kind === 'service_token') {
      await this.store.tokens.revokeService(found.hash, now);
      return;
    }
    const { record } = found;
    await this.store.transaction(async (tx) => {
      if (found.kind === 'access_token') await tx.tokens.revokeAccess(found.hash, now);
      await endSession(tx, record.sessionId, 'logout', now, {
        ...context,
        clientId: client.id,
        userId: record.session.userId,
        email: record.email,
      });
    });
  }
}
