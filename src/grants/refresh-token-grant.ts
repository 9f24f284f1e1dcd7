import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';
import { hashSecret } from '../crypto/secrets.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import type { Client, Store, TokenRecord } from '../store/store.ts';
import type { IssuedTokens } from '../tokens/issued-tokens.ts';
import type { TokenLifetimes } from '../tokens/token-lifetimes.ts';
import { mintAccessToken, mintRefreshToken } from '../tokens/token-minting.ts';
import type { Grant } from './grant.ts';

export interface RefreshTokenGrantDeps {
  store: Store;
  clock: Clock;
  lifetimes: TokenLifetimes;
}

const invalid = () => new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.');

/**
 * RFC 6749 §6, continuing an existing session: rotation as one compare-and-swap in the store,
 * reuse detection (RFC 9700 §4.14.2), an optional grace window for clients that retry, and the
 * family's absolute lifetime.
 */
export function refreshTokenGrant(deps: RefreshTokenGrantDeps): Grant {
  /** RFC 9700 §4.14.2: a rotated token presented again means it leaked; end the whole session. */
  const answerReuse = async (record: TokenRecord, client: Client, context: EventContext, now: number): Promise<OAuthError> => {
    const who = { ...context, clientId: client.id, userId: record.session.userId, email: record.email, sessionId: record.sessionId };
    await deps.store.transaction(async (tx) => {
      if (await tx.sessions.end(record.sessionId, 'refresh_token_reuse', now)) {
        await tx.events.create(securityEvent('refresh_token_reused', now, { ...who, reason: 'rotated_token_presented' }));
        await tx.events.create(securityEvent('session_ended', now, { ...who, reason: 'refresh_token_reuse' }));
      }
    });
    return invalid();
  };

  const rotate = async (client: Client, presented: string, context: EventContext): Promise<IssuedTokens> => {
    const now = deps.clock.now();
    const hash = hashSecret(presented);
    const record = await deps.store.tokens.findRefresh(hash);
    // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
    if (!record || record.session.clientId !== client.id) throw invalid();
    if (record.revokedAt !== null || record.session.endedAt !== null || record.expiresAt <= now) throw invalid();

    const inGrace = (rotatedAt: number) => client.refreshGrace > 0 && now - rotatedAt <= client.refreshGrace * 1000;
    if (record.rotatedAt !== null && !inGrace(record.rotatedAt)) throw await answerReuse(record, client, context, now);

    const accessExpiresAt = now + deps.lifetimes.accessMs(client);
    const access = mintAccessToken(record.sessionId, accessExpiresAt, now);
    // The family keeps its absolute lifetime: the new token expires when the old one would have.
    const refresh = mintRefreshToken(record.sessionId, record.expiresAt, now);
    const won = await deps.store.transaction(async (tx) => {
      if (record.rotatedAt === null && (await tx.tokens.rotateRefresh(hash, now, null))) {
        // This request won the compare-and-swap: the token is rotated, exactly once.
      } else {
        // Already rotated (a grace-window reuse) or lost the race: allowed only inside the grace
        // window, and only while the token and its session are still alive.
        const again = await tx.tokens.findRefresh(hash);
        const alive = again && again.revokedAt === null && again.session.endedAt === null;
        if (!alive || again.rotatedAt === null || !inGrace(again.rotatedAt)) return false;
      }
      await tx.tokens.createAccess(access.row);
      await tx.tokens.createRefresh(refresh.row);
      await tx.sessions.extend(record.sessionId, accessExpiresAt);
      return true;
    });
    // Lost the race against another refresh of the same token: it is now a rotated token.
    if (!won) throw await answerReuse(record, client, context, now);

    return {
      accessToken: access.secret,
      tokenType: client.tokenType,
      accessExpiresAt,
      refreshToken: refresh.secret,
      refreshExpiresAt: record.expiresAt,
      redirectUrl: record.session.redirectUrl,
      email: record.email,
      issuedAt: now,
    };
  };

  return {
    grantTypes: ['refresh_token'],
    async decide({ params, client, context }) {
      const token = params.require('refresh_token');
      if (!client.refreshTokens) {
        throw new OAuthError('unauthorized_client', 'This client is not allowed refresh tokens.');
      }
      return { kind: 'issued', tokens: await rotate(client, token, context) };
    },
  };
}
