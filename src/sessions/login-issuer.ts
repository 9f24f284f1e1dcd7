import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';
import { newTimeOrderedId } from '../crypto/secrets.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import type { Session, Store } from '../store/store.ts';
import type { AccessTokenMinter } from '../tokens/access-token-minter.ts';
import { grantsOpenId, type IdTokenMinter } from '../tokens/id-token-minter.ts';
import type { IssuedTokens } from '../tokens/issued-tokens.ts';
import type { TokenLifetimes } from '../tokens/token-lifetimes.ts';
import { mintRefreshToken } from '../tokens/token-minting.ts';
import { refuseSpent, spend } from './consumables.ts';
import type { LoginDecision } from './login-decision.ts';
import { endSessionsOfUser } from './session-ending.ts';
import { sessionLimit } from './session-limit.ts';

/** Why a login was refused inside its transaction (which then rolls back). */
class LoginRefused extends Error {
  readonly refusal: 'session_limit' | 'spent' | 'signed_out';
  constructor(refusal: 'session_limit' | 'spent' | 'signed_out') {
    super(refusal);
    this.refusal = refusal;
  }
}

/**
 * Issues what a grant decided. Every write of a login happens in one transaction: the user's
 * lock, spending a code or an assertion, the session limit (or ending the other sessions), the
 * session and its tokens, and the security events — so a login happens whole or not at all.
 */
export class LoginIssuer {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly lifetimes: TokenLifetimes;
  private readonly minter: AccessTokenMinter;
  private readonly defaultAudience: string;
  private readonly idTokens: IdTokenMinter;

  constructor(deps: {
    store: Store;
    clock: Clock;
    lifetimes: TokenLifetimes;
    minter: AccessTokenMinter;
    defaultAudience: string;
    idTokens: IdTokenMinter;
  }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.lifetimes = deps.lifetimes;
    this.minter = deps.minter;
    this.defaultAudience = deps.defaultAudience;
    this.idTokens = deps.idTokens;
  }

  async issue(login: LoginDecision, context: EventContext): Promise<IssuedTokens> {
    const { user, client } = login;
    const now = this.clock.now();
    const limit = await sessionLimit(this.store, user);
    const sessionId = newTimeOrderedId('ses_');
    const accessExpiresAt = now + this.lifetimes.accessMs(client);
    const refreshExpiresAt = now + this.lifetimes.refreshMs(client);
    const audience = login.audience ?? this.defaultAudience;
    const access = this.minter.mint(client, {
      subject: user.id,
      email: user.email,
      sessionId,
      scope: login.scope,
      audience,
      expiresAt: accessExpiresAt,
      now,
    });
    const refresh = login.issueRefreshToken ? mintRefreshToken(sessionId, refreshExpiresAt, now) : undefined;
    const session: Session = {
      id: sessionId,
      userId: user.id,
      clientId: client.id,
      grantType: login.grantType,
      redirectUrl: login.redirectUrl,
      startedAt: now,
      expiresAt: refresh ? Math.max(refreshExpiresAt, accessExpiresAt) : accessExpiresAt,
      endedAt: null,
      endReason: null,
      scope: login.scope,
      audience,
      browserSessionId: login.browser?.browserSessionId ?? null,
      authTime: login.browser?.authTime ?? null,
    };
    const browserSessionId = login.browser?.browserSessionId ?? null;
    const who = { ...context, clientId: client.id, userId: user.id, email: user.email };

    try {
      await this.store.transaction(async (tx) => {
        // The check and the insert must be atomic: take the user's lock before counting.
        await tx.users.lock(user.id);
        if (login.consume && !(await spend(tx, login.consume, sessionId, now))) throw new LoginRefused('spent');
        if (browserSessionId !== null) {
          // Signed out since the code was issued: the code goes with the sign-in it came from.
          const browser = await tx.browserSessions.find(browserSessionId);
          if (!browser || browser.endedAt !== null) throw new LoginRefused('signed_out');
        }
        if (login.endOtherSessions) {
          await endSessionsOfUser(tx, user.id, 'end_other_sessions', now, who, browserSessionId);
        } else if (limit !== null && !(browserSessionId !== null && (await tx.sessions.browserSessionHasActive(browserSessionId, now)))) {
          // Contract §11: a browser session counts once, so a second app it signs in adds nothing to the count.
          if ((await tx.sessions.countActive(user.id, now)) >= limit) throw new LoginRefused('session_limit');
        }
        await tx.sessions.create(session);
        await tx.tokens.createAccess({
          hash: access.hash,
          sessionId,
          expiresAt: accessExpiresAt,
          createdAt: now,
          scope: login.scope,
          audience,
        });
        if (refresh) await tx.tokens.createRefresh(refresh.row);
        await tx.events.create(securityEvent('login_succeeded', now, { ...who, sessionId, reason: login.grantType }));
        await tx.events.create(securityEvent('session_started', now, { ...who, sessionId, reason: login.grantType }));
      });
    } catch (error) {
      if (!(error instanceof LoginRefused)) throw error;
      if (error.refusal === 'spent') throw await refuseSpent({ store: this.store, clock: this.clock }, login.consume!, user, context);
      if (error.refusal === 'signed_out') throw new OAuthError('invalid_grant', 'The sign-in this code came from has ended (signed out).');
      await this.store.events.create(securityEvent('login_failed', now, { ...who, reason: 'session_limit' }));
      throw new OAuthError(
        'concurrent_session_limit',
        'The user already has the maximum number of sessions; retry with endOtherSessions=true to end them.',
      );
    }

    // Contract §11: `openid` granted in the code flow adds an ID token, signed while nothing waits on it.
    const idToken =
      login.browser && grantsOpenId(login.scope)
        ? this.idTokens.mint({
            clientId: client.id,
            userId: user.id,
            email: user.email,
            authTime: login.browser.authTime,
            nonce: login.browser.nonce,
            sid: login.browser.browserSessionId,
            accessToken: access.secret,
            expiresAt: accessExpiresAt,
            now,
          })
        : undefined;
    return {
      accessToken: await access.secret,
      // OpenID Connect Core §3.1.3.3: "The OAuth 2.0 token_type response parameter value MUST be Bearer".
      tokenType: idToken ? 'Bearer' : client.tokenType,
      ...(idToken ? { idToken: await idToken } : {}),
      accessExpiresAt,
      ...(refresh ? { refreshToken: refresh.secret, refreshExpiresAt } : {}),
      redirectUrl: login.redirectUrl,
      email: user.email,
      scope: login.scope,
      issuedAt: now,
    };
  }
}
