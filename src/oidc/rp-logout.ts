import { OAuthError } from '../common/oauth-error.ts';
import type { RequestParams } from '../common/request-params.ts';
import type { JwtSigner } from '../keys/jwt-signer.ts';
import type { BrowserSessions, LiveBrowserSession } from '../sessions/browser-sessions.ts';
import type { Client, Store } from '../store/store.ts';

/** A logout request that passed every check (OpenID Connect RP-Initiated Logout 1.0 §2–§3). */
export interface LogoutRequest {
  /** the client the request is from: the ID token hint's audience, or client_id */
  client: Client | undefined;
  /** a registered post_logout_redirect_uri of that client, when one was asked for */
  postLogoutRedirectUri: string | undefined;
  state: string | undefined;
  /** from a valid id_token_hint: the signed-in user and the browser session the RP knows about */
  hint: { subject: string; sid: string | undefined } | undefined;
}

/** The parameters a logout request may carry; the confirmation form sends them on. */
export const LOGOUT_PARAMS = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state', 'logout_hint', 'ui_locales'] as const;

/**
 * RP-Initiated Logout 1.0. With a valid ID token hint the browser session the relying party knows
 * about ends at once (with every session it signed in); without one, the person confirms first
 * (§2: "the OP SHOULD ask the End-User whether to log out"), so a link on another site cannot
 * sign anyone out. A bad request never redirects: the redirect URI is only trusted when registered.
 */
export class RpLogout {
  private readonly store: Store;
  private readonly signer: JwtSigner;
  private readonly issuer: string;
  private readonly browserSessions: BrowserSessions;

  constructor(deps: { store: Store; signer: JwtSigner; issuer: string; browserSessions: BrowserSessions }) {
    this.store = deps.store;
    this.signer = deps.signer;
    this.issuer = deps.issuer;
    this.browserSessions = deps.browserSessions;
  }

  /** Checks a logout request; throws invalid_request (shown as a page) for anything wrong. */
  async check(params: RequestParams): Promise<LogoutRequest> {
    const bad = (description: string) => new OAuthError('invalid_request', description);
    const hintToken = params.get('id_token_hint');
    let hint: LogoutRequest['hint'];
    let hintAudience: string | undefined;
    if (hintToken !== undefined) {
      // §2: "the OP MUST validate that it was the issuer of the ID Token"; an expired one is fine (§4).
      const claims = hintToken.length <= 8192 ? await this.signer.verifyOwn(hintToken) : undefined;
      if (!claims || claims.iss !== this.issuer || typeof claims.sub !== 'string' || typeof claims.aud !== 'string') {
        throw bad('The id_token_hint is not an ID token this server issued.');
      }
      hint = { subject: claims.sub, sid: typeof claims.sid === 'string' ? claims.sid : undefined };
      hintAudience = claims.aud;
    }
    const clientId = params.get('client_id');
    // §2: when both are given, "the OP MUST verify that the Client Identifier matches the one used to request the ID Token".
    if (clientId !== undefined && hintAudience !== undefined && clientId !== hintAudience) {
      throw bad('client_id does not match the application the id_token_hint was issued to.');
    }
    const id = clientId ?? hintAudience;
    const client = id !== undefined && id.length <= 200 && !id.includes('\u0000') ? await this.store.clients.find(id) : undefined;
    if (id !== undefined && (!client || client.disabled)) throw bad('The application that sent you here is not registered.');
    // An access-token JWT is signed by the same keys; only an ID token's audience is a client.
    if (hintAudience !== undefined && !client) throw bad('The id_token_hint is not an ID token this server issued.');

    const postLogoutRedirectUri = params.get('post_logout_redirect_uri');
    if (postLogoutRedirectUri !== undefined) {
      // §3: it "MUST have been previously registered" and the client must be identified to check it.
      if (!client) throw bad('post_logout_redirect_uri needs id_token_hint or client_id to say which application it belongs to.');
      if (!client.postLogoutRedirectUrls.includes(postLogoutRedirectUri)) {
        throw bad('The post_logout_redirect_uri is not registered for this application.');
      }
    }
    return { client, postLogoutRedirectUri, state: params.get('state'), hint };
  }

  /** Whether this request may end the session without asking: a valid hint about the browser's own user. */
  mayEndWithoutAsking(request: LogoutRequest, current: LiveBrowserSession | undefined): boolean {
    if (!request.hint) return false;
    return current === undefined || current.user.id === request.hint.subject;
  }

  /**
   * Ends the browser session in this browser, and the one the hint names (the relying party's own
   * view of the sign-in, e.g. a mobile app's browser without our cookie) when it is the hint's user's.
   * Returns the browser sessions ended.
   */
  async end(
    request: LogoutRequest,
    current: LiveBrowserSession | undefined,
    context: { ip: string; requestId: string },
  ): Promise<string[]> {
    const ids = new Set<string>();
    if (current && (!request.hint || current.user.id === request.hint.subject)) ids.add(current.session.id);
    if (request.hint?.sid?.startsWith('bs_')) {
      const named = await this.store.browserSessions.find(request.hint.sid);
      if (named && named.userId === request.hint.subject && named.endedAt === null) ids.add(named.id);
    }
    const eventContext = { ...context, clientId: request.client?.id ?? null };
    for (const id of ids) await this.browserSessions.end(id, eventContext);
    return [...ids];
  }
}
