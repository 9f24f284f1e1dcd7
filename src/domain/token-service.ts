import type { Clock } from '../clock.ts';
import { hashSecret, newId, newSecret } from '../crypto/secrets.ts';
import { OAuthError } from '../errors/oauth-error.ts';
import type { Client, Session, Store, StoreOps, User } from '../store/store.ts';
import { securityEvent, type EventContext } from './event-log.ts';
import { secondsUntil, type TokenResponse } from './token-response.ts';

export interface TokenLifetimes {
  /** seconds, unless the client overrides it */
  accessTokenTtl: number;
  refreshTokenTtl: number;
}

export interface SessionStart {
  user: User;
  client: Client;
  grantType: string;
  /** the seed's endOtherSessions: end the user's other sessions before this one starts */
  endOtherSessions: boolean;
  redirectUrl: string;
  issueRefreshToken: boolean;
  context: EventContext;
  /** Writes that must commit or roll back together with the new session (consuming a code). */
  withinTransaction?: (tx: StoreOps, sessionId: string) => Promise<void>;
}

/**
 * Issues tokens. A grant decides who logs in; this service does every write of a login in one
 * transaction: the session-limit check, ending other sessions, the session and its tokens, and
 * the security events — so a login either happens whole or not at all.
 */
export class TokenService {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly lifetimes: TokenLifetimes;

  constructor(deps: { store: Store; clock: Clock; lifetimes: TokenLifetimes }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.lifetimes = deps.lifetimes;
  }

  accessTtl(client: Client): number {
    return (client.accessTtl ?? this.lifetimes.accessTokenTtl) * 1000;
  }

  refreshTtl(client: Client): number {
    return (client.refreshTtl ?? this.lifetimes.refreshTokenTtl) * 1000;
  }

  /** Contract §2: a user's own limit overrides its organization's; null means unlimited. */
  async sessionLimit(user: User): Promise<number | null> {
    if (user.maxSessions !== null) return user.maxSessions;
    return (await this.store.findOrg(user.orgId))?.maxSessions ?? null;
  }

  async startSession(start: SessionStart): Promise<TokenResponse> {
    const { user, client, context } = start;
    const now = this.clock.now();
    const limit = await this.sessionLimit(user);
    const accessToken = newSecret('access_token');
    const refreshToken = start.issueRefreshToken ? newSecret('refresh_token') : undefined;
    const accessExpiresAt = now + this.accessTtl(client);
    const refreshExpiresAt = now + this.refreshTtl(client);
    const session: Session = {
      id: newId('ses_'),
      userId: user.id,
      clientId: client.id,
      grantType: start.grantType,
      redirectUrl: start.redirectUrl,
      startedAt: now,
      expiresAt: refreshToken ? Math.max(refreshExpiresAt, accessExpiresAt) : accessExpiresAt,
      endedAt: null,
      endReason: null,
    };
    const who = { ...context, clientId: client.id, userId: user.id, email: user.email };

    try {
      await this.store.transaction(async (tx) => {
        // The check and the insert must be atomic: take the user's lock before counting.
        await tx.lockUser(user.id);
        if (start.withinTransaction) await start.withinTransaction(tx, session.id);
        if (start.endOtherSessions) {
          for (const ended of await tx.endUserSessions(user.id, 'end_other_sessions', now)) {
            await tx.insertEvent(securityEvent('session_ended', now, { ...who, sessionId: ended, reason: 'end_other_sessions' }));
          }
        } else if (limit !== null && (await tx.countActiveSessions(user.id, now)) >= limit) {
          throw new OAuthError(
            'concurrent_session_limit',
            'The user already has the maximum number of sessions; retry with endOtherSessions=true to end them.',
          );
        }
        await tx.insertSession(session);
        await tx.insertAccessToken({ hash: hashSecret(accessToken), sessionId: session.id, expiresAt: accessExpiresAt, createdAt: now });
        if (refreshToken) {
          await tx.insertRefreshToken({ hash: hashSecret(refreshToken), sessionId: session.id, expiresAt: refreshExpiresAt, createdAt: now });
        }
        await tx.insertEvent(securityEvent('login_succeeded', now, { ...who, sessionId: session.id, reason: start.grantType }));
        await tx.insertEvent(securityEvent('session_started', now, { ...who, sessionId: session.id, reason: start.grantType }));
      });
    } catch (error) {
      if (error instanceof OAuthError && error.code === 'concurrent_session_limit') {
        await this.store.insertEvent(securityEvent('login_failed', now, { ...who, reason: 'session_limit' }));
      }
      throw error;
    }

    return {
      access_token: accessToken,
      token_type: client.tokenType,
      expires_in: secondsUntil(accessExpiresAt, now),
      ...(refreshToken ? { refresh_token: refreshToken, refresh_token_expires_in: secondsUntil(refreshExpiresAt, now) } : {}),
      redirect_url: start.redirectUrl,
      email: user.email,
    };
  }

  /**
   * The refresh_token grant: rotation as a single compare-and-swap in the store, reuse detection
   * (RFC 9700 §4.14.2) and the family's absolute lifetime.
   */
  async refresh(client: Client, presented: string, context: EventContext): Promise<TokenResponse> {
    const now = this.clock.now();
    const hash = hashSecret(presented);
    const record = await this.store.findRefreshToken(hash);
    const invalid = () => new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.');
    // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
    if (!record || record.session.clientId !== client.id) throw invalid();
    if (record.revokedAt !== null || record.session.endedAt !== null || record.expiresAt <= now) throw invalid();
    const who = { ...context, clientId: client.id, userId: record.session.userId, email: record.email, sessionId: record.sessionId };

    const inGrace = (rotatedAt: number) => client.refreshGrace > 0 && now - rotatedAt <= client.refreshGrace * 1000;
    const reuse = async () => {
      // RFC 9700 §4.14.2: a rotated token presented again means it leaked; end the whole session.
      await this.store.transaction(async (tx) => {
        if (await tx.endSession(record.sessionId, 'refresh_token_reuse', now)) {
          await tx.insertEvent(securityEvent('refresh_token_reused', now, { ...who, reason: 'rotated_token_presented' }));
          await tx.insertEvent(securityEvent('session_ended', now, { ...who, reason: 'refresh_token_reuse' }));
        }
      });
      return invalid();
    };
    if (record.rotatedAt !== null && !inGrace(record.rotatedAt)) throw await reuse();

    const accessToken = newSecret('access_token');
    const refreshToken = newSecret('refresh_token');
    const accessExpiresAt = now + this.accessTtl(client);
    const won = await this.store.transaction(async (tx) => {
      if (record.rotatedAt === null && (await tx.markRefreshTokenRotated(hash, now))) {
        // This request won the compare-and-swap: the token is rotated, exactly once.
      } else {
        // Already rotated (a grace-window reuse) or lost the race: allowed only inside the grace
        // window, and only while the token and its session are still alive.
        const again = await tx.findRefreshToken(hash);
        const alive = again && again.revokedAt === null && again.session.endedAt === null;
        if (!alive || again.rotatedAt === null || !inGrace(again.rotatedAt)) return false;
      }
      await tx.insertAccessToken({ hash: hashSecret(accessToken), sessionId: record.sessionId, expiresAt: accessExpiresAt, createdAt: now });
      // The family keeps its absolute lifetime: the new token expires when the old one would have.
      await tx.insertRefreshToken({ hash: hashSecret(refreshToken), sessionId: record.sessionId, expiresAt: record.expiresAt, createdAt: now });
      await tx.extendSession(record.sessionId, accessExpiresAt);
      return true;
    });
    // Lost the race against another refresh of the same token: it is now a rotated token.
    if (!won) throw await reuse();

    return {
      access_token: accessToken,
      token_type: client.tokenType,
      expires_in: secondsUntil(accessExpiresAt, now),
      refresh_token: refreshToken,
      refresh_token_expires_in: secondsUntil(record.expiresAt, now),
      redirect_url: record.session.redirectUrl,
      email: record.email,
    };
  }
}
