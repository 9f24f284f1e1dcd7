import type { Clock } from '../clock.ts';
import { hashSecret, newId, newSecret } from '../crypto/secrets.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import type { BrowserSession, Store, StoreOps, User } from '../store/store.ts';
import { endBrowserSession } from './session-ending.ts';

/** A browser session that may sign its user in again, with that user. */
export interface LiveBrowserSession {
  session: BrowserSession;
  user: User;
}

/** The value of the browser-session cookie: `sbs_` and 256 random bits, base64url. */
const COOKIE_VALUE = /^sbs_[A-Za-z0-9_-]{43}$/;

/**
 * Browser sessions (contract §11): a sign-in on the authorize page lets the same browser sign
 * the same person in to a second app without a password while it lives. The cookie holds a
 * random value; the store keeps only its hash, so a database reader cannot take one over.
 */
export class BrowserSessions {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly ttlMs: number;

  constructor(deps: { store: Store; clock: Clock; ttlSeconds: number }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.ttlMs = deps.ttlSeconds * 1000;
  }

  /**
   * The browser session the user just signed in with, written in the caller's transaction (with
   * the code it issues): `current` again when it belongs to the same user (its auth_time moves: a
   * new authentication), else a new one. Returns it and the cookie value to set (undefined: keep
   * the cookie the browser has).
   */
  async signedIn(
    tx: StoreOps,
    user: User,
    current: LiveBrowserSession | undefined,
    context: EventContext,
  ): Promise<{ session: BrowserSession; cookie?: string }> {
    const now = this.clock.now();
    if (current && current.user.id === user.id && (await tx.browserSessions.reauthenticate(current.session.id, now, now + this.ttlMs))) {
      return { session: { ...current.session, authTime: now, expiresAt: now + this.ttlMs } };
    }
    const cookie = newSecret('browser_session');
    const session: BrowserSession = {
      id: newId('bs_'),
      secretHash: hashSecret(cookie),
      userId: user.id,
      authTime: now,
      expiresAt: now + this.ttlMs,
      endedAt: null,
      createdAt: now,
    };
    await tx.browserSessions.create(session);
    await tx.events.create(
      securityEvent('browser_session_started', now, { ...context, userId: user.id, email: user.email, sessionId: session.id }),
    );
    return { session, cookie };
  }

  /** The live browser session a cookie value names: not ended, not expired, its user enabled. */
  async find(cookie: string | undefined): Promise<LiveBrowserSession | undefined> {
    if (cookie === undefined || !COOKIE_VALUE.test(cookie)) return undefined;
    const session = await this.store.browserSessions.findBySecret(hashSecret(cookie));
    if (!session || session.endedAt !== null || session.expiresAt <= this.clock.now()) return undefined;
    const user = await this.store.users.find(session.userId);
    if (!user || user.disabled) return undefined;
    return { session, user };
  }

  /** Ends a browser session and every session it signed in (RP-initiated logout); the sessions ended. */
  end(browserSessionId: string, context: EventContext): Promise<string[]> {
    const now = this.clock.now();
    return this.store.transaction((tx) => endBrowserSession(tx, browserSessionId, 'browser_logout', now, context));
  }
}
