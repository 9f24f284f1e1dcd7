import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';
import { grantedScope } from '../common/scope.ts';
import { storedKey } from '../crypto/secrets.ts';
import { openWithSecret, sealWithSecret } from '../crypto/token-sealing.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import { endItsBrowserSession } from '../sessions/session-ending.ts';
import type { Client, Store, TokenRecord } from '../store/store.ts';
import type { AccessTokenMinter } from '../tokens/access-token-minter.ts';
import { grantsOpenId, type IdTokenMinter } from '../tokens/id-token-minter.ts';
import type { IssuedTokens } from '../tokens/issued-tokens.ts';
import type { TokenLifetimes } from '../tokens/token-lifetimes.ts';
import { mintRefreshToken } from '../tokens/token-minting.ts';
import type { Grant } from './grant.ts';

export interface RefreshTokenGrantDeps {
  store: Store;
  clock: Clock;
  lifetimes: TokenLifetimes;
  minter: AccessTokenMinter;
  defaultAudience: string;
  idTokens: IdTokenMinter;
}

/** OpenID Connect: a session signed in through the browser with `openid` granted (the scope of this access token). */
const isOpenIdSession = (record: TokenRecord, scope: string): boolean => (record.session.authTime ?? null) !== null && grantsOpenId(scope);

/** What a refresh asks for beyond the token: a narrower scope (RFC 6749 §6), another audience (RFC 8707). */
interface RefreshTarget {
  scope: string | undefined;
  audience: string | undefined;
}

/** What a rotation issued, as sealed in the rotated token's row (short keys: it is stored per rotation). */
interface SealedSuccessor {
  a: string;
  ae: number;
  r: string;
  /** the access token's scope (absent in successors sealed before scopes existed) */
  s?: string;
}

function parseSuccessor(text: string): { accessToken: string; accessExpiresAt: number; refreshToken: string; scope: string } | undefined {
  try {
    const value = JSON.parse(text) as Partial<SealedSuccessor>;
    if (typeof value.a !== 'string' || typeof value.ae !== 'number' || typeof value.r !== 'string') return undefined;
    return { accessToken: value.a, accessExpiresAt: value.ae, refreshToken: value.r, scope: typeof value.s === 'string' ? value.s : '' };
  } catch {
    return undefined;
  }
}

const invalid = () => new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.');

/**
 * RFC 6749 §6, continuing an existing session: rotation as one compare-and-swap in the store,
 * reuse detection (RFC 9700 §4.14.2), an optional grace window in which a client's retry gets
 * the same tokens again (never a second branch of the family), and the family's absolute lifetime.
 */
export function refreshTokenGrant(deps: RefreshTokenGrantDeps): Grant {
  /** RFC 9700 §4.14.2: a rotated token presented again means it leaked; end the whole session. */
  const answerReuse = async (record: TokenRecord, client: Client, context: EventContext, now: number): Promise<OAuthError> => {
    const who = { ...context, clientId: client.id, userId: record.session.userId, email: record.email, sessionId: record.sessionId };
    await deps.store.transaction(async (tx) => {
      if (await tx.sessions.end(record.sessionId, 'refresh_token_reuse', now)) {
        await tx.events.create(securityEvent('refresh_token_reused', now, { ...who, reason: 'rotated_token_presented' }));
        await tx.events.create(securityEvent('session_ended', now, { ...who, reason: 'refresh_token_reuse' }));
        await endItsBrowserSession(tx, record.sessionId, 'refresh_token_reuse', now, who);
      }
    });
    return invalid();
  };

  /**
   * The retry of a rotation inside the grace window: the tokens that rotation issued, exactly,
   * read from the successor sealed with the presented token. Nothing is written, so a retry never
   * starts a second branch of the family. Undefined when there is nothing to replay: no successor
   * (it was forgotten when the family rotated again) or one that no longer works.
   */
  const replay = async (record: TokenRecord, presented: string, client: Client, now: number): Promise<IssuedTokens | undefined> => {
    const opened = record.successor === null ? undefined : openWithSecret(presented, record.successor);
    const successor = opened === undefined ? undefined : parseSuccessor(opened);
    if (!successor) return undefined;
    const current = await deps.store.tokens.findRefresh(storedKey(successor.refreshToken));
    if (!current || current.revokedAt !== null || current.session.endedAt !== null || current.expiresAt <= now) return undefined;
    return {
      accessToken: successor.accessToken,
      tokenType: isOpenIdSession(record, successor.scope) ? 'Bearer' : client.tokenType,
      accessExpiresAt: successor.accessExpiresAt,
      refreshToken: successor.refreshToken,
      refreshExpiresAt: current.expiresAt,
      redirectUrl: record.session.redirectUrl,
      email: record.email,
      scope: successor.scope,
      issuedAt: now,
    };
  };

  const rotate = async (client: Client, presented: string, target: RefreshTarget, context: EventContext): Promise<IssuedTokens> => {
    const now = deps.clock.now();
    const hash = storedKey(presented);
    const record = await deps.store.tokens.findRefresh(hash);
    // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
    if (!record || record.session.clientId !== client.id) throw invalid();
    if (record.revokedAt !== null || record.session.endedAt !== null || record.expiresAt <= now) throw invalid();

    const inGrace = (rotatedAt: number) => client.refreshGrace > 0 && now - rotatedAt <= client.refreshGrace * 1000;
    // An already rotated token: inside the grace window a retry gets the same tokens again; after it, it is reuse.
    const answerRotated = async (rotated: TokenRecord): Promise<IssuedTokens> => {
      if (rotated.rotatedAt === null || !inGrace(rotated.rotatedAt)) throw await answerReuse(rotated, client, context, now);
      const again = await replay(rotated, presented, client, now);
      if (!again) throw invalid();
      return again;
    };
    if (record.rotatedAt !== null) return answerRotated(record);

    // RFC 6749 §6: a narrower scope may be asked for, never a wider one; none keeps the scope granted at login.
    const scope = grantedScope(target.scope, record.session.scope);
    const audience = target.audience ?? record.session.audience ?? deps.defaultAudience;
    const accessExpiresAt = now + deps.lifetimes.accessMs(client);
    const access = deps.minter.mint(client, {
      subject: record.session.userId,
      email: record.email,
      sessionId: record.sessionId,
      scope,
      audience,
      expiresAt: accessExpiresAt,
      now,
    });
    // The family keeps its absolute lifetime: the new token expires when the old one would have.
    const refresh = mintRefreshToken(record.sessionId, record.expiresAt, now);
    // With a grace window, what this rotation issues is kept for the retries, readable only with the presented token.
    const successor =
      client.refreshGrace > 0
        ? sealWithSecret(
            presented,
            JSON.stringify({ a: await access.secret, ae: accessExpiresAt, r: refresh.secret, s: scope } satisfies SealedSuccessor),
          )
        : null;
    // The compare-and-swap: exactly one presentation of the token rotates it, and writes the rest.
    const won = await deps.store.tokens.rotateRefreshFamily({
      presentedHash: hash,
      now,
      successor,
      access: { hash: access.hash, sessionId: record.sessionId, expiresAt: accessExpiresAt, createdAt: now, scope, audience },
      refresh: refresh.row,
    });
    if (!won) {
      // Lost the race against another presentation of the same token, which has committed by now.
      const rotated = await deps.store.tokens.findRefresh(hash);
      if (!rotated || rotated.revokedAt !== null || rotated.session.endedAt !== null) throw invalid();
      return answerRotated(rotated);
    }

    // OpenID Connect Core §12.2: a refresh may return a new ID token — same sub, auth_time and sid, a new iat.
    const openId = isOpenIdSession(record, scope);
    const idToken = openId
      ? deps.idTokens.mint({
          clientId: client.id,
          userId: record.session.userId,
          email: record.email,
          authTime: record.session.authTime!,
          nonce: null,
          sid: record.session.browserSessionId ?? record.sessionId,
          accessToken: access.secret,
          expiresAt: accessExpiresAt,
          now,
        })
      : undefined;
    return {
      accessToken: await access.secret,
      // OpenID Connect Core §3.1.3.3 (and §12.2): token_type MUST be Bearer.
      tokenType: openId ? 'Bearer' : client.tokenType,
      ...(idToken ? { idToken: await idToken } : {}),
      accessExpiresAt,
      refreshToken: refresh.secret,
      refreshExpiresAt: record.expiresAt,
      redirectUrl: record.session.redirectUrl,
      email: record.email,
      scope,
      issuedAt: now,
    };
  };

  return {
    grantTypes: ['refresh_token'],
    async decide({ params, client, audience, context }) {
      const token = params.require('refresh_token');
      if (!client.refreshTokens) {
        throw new OAuthError('unauthorized_client', 'This client is not allowed refresh tokens.');
      }
      return { kind: 'issued', tokens: await rotate(client, token, { scope: params.get('scope'), audience }, context) };
    },
  };
}
