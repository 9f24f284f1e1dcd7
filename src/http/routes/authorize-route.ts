import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkPasswordLogin, type PasswordLoginDeps } from '../../accounts/password-login.ts';
import { issueAuthorizationCode } from '../../authorize/authorization-code.ts';
import {
  AUTHORIZE_PARAMS,
  type AuthorizeCheck,
  type AuthorizeRequest,
  checkAuthorizeRequest,
  redirectWith,
} from '../../authorize/authorize-request.ts';
import type { Clock } from '../../clock.ts';
import { OAuthError } from '../../common/oauth-error.ts';
import { RequestParams, rawQuery } from '../../common/request-params.ts';
import type { BrowserSessions } from '../../sessions/browser-sessions.ts';
import type { BrowserSso } from '../../sso/browser-sso.ts';
import type { BrowserSession, Store, StoreOps } from '../../store/store.ts';
import { BrowserSessionCookie } from '../browser-session-cookie.ts';
import { CSRF_FIELD, CsrfProtection } from '../csrf.ts';
import { renderErrorAsPage } from '../render-error-page.ts';
import { SsoBrowserCookie } from '../sso-cookie.ts';
import { renderErrorPage } from '../views/error-page.ts';
import { formActionSource, sendHtml } from '../views/html.ts';
import { renderLoginPage } from '../views/login-page.ts';
import { renderSsoRedirectPage } from '../views/sso-redirect-page.ts';

/**
 * The authorization endpoint (RFC 6749 §4.1, RFC 7636): GET shows the login page, POST is its
 * form submit, which re-validates the request, checks CSRF and the password, and redirects with
 * a code. Everything here answers in HTML or by redirect, never with the token endpoint's JSON.
 */
export interface AuthorizeRouteDeps {
  store: Store;
  clock: Clock;
  issuer: string;
  /** the password check shared with the token endpoint (throttling included) */
  passwordLogin: PasswordLoginDeps;
  /** SAML browser SSO: an email of an IdP's domain goes to that IdP (contract §10) */
  sso: BrowserSso;
  /** contract §11: a sign-in here lets the same browser sign in to another app without a password */
  browserSessions: BrowserSessions;
}

const MESSAGES = {
  badLogin: 'The email or password is incorrect.',
  missing: 'Enter your email address and your password.',
  staleForm: 'This sign-in form has expired. Please sign in again.',
  throttled: 'Too many failed sign-in attempts. Wait a few minutes, then try again.',
} as const;

/** A failed check: an HTML page when the client or redirect URI is unverified, else a redirect (RFC 6749 §4.1.2.1). */
/** RFC 9207: every authorization response names its issuer, so a client can spot a mix-up attack. */
function sendCheckFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  check: Exclude<AuthorizeCheck, { kind: 'ok' }>,
  status: 302 | 303,
  issuer: string,
): FastifyReply {
  request.audit.outcome = check.error.code;
  if (check.kind === 'page') return sendHtml(reply, check.error.status, renderErrorPage({ description: check.error.description }));
  const location = redirectWith(check.redirectUri, {
    error: check.error.code,
    error_description: check.error.description,
    state: check.state,
    iss: issuer,
  });
  return reply.code(status).header('location', location).send();
}

export function registerAuthorizeRoute(app: FastifyInstance, deps: AuthorizeRouteDeps): void {
  // Behind an https issuer the CSRF cookie must never travel over plain http, nor be set by a sibling domain.
  const csrf = new CsrfProtection({ secrets: deps.store.serverSecrets, clock: deps.clock, secure: deps.issuer.startsWith('https:') });
  const ssoCookie = new SsoBrowserCookie({ secure: deps.issuer.startsWith('https:') });
  const sessionCookie = new BrowserSessionCookie({ secure: deps.issuer.startsWith('https:') });

  /** RFC 6749 §4.1.2, RFC 9207: the code goes back on the redirect URI, with state exactly as received, and iss. */
  const codeRedirect = (authorize: AuthorizeRequest, code: string): string =>
    redirectWith(authorize.redirectUri, { code, state: authorize.state, iss: deps.issuer });

  /** Mints the code for a browser session: what the token endpoint needs for the session and the ID token. */
  const mintCode = (tx: StoreOps, authorize: AuthorizeRequest, userId: string, browser: BrowserSession): Promise<string> =>
    issueAuthorizationCode(tx, deps.clock.now(), {
      clientId: authorize.client.id,
      userId,
      redirectUri: authorize.redirectUri,
      redirectUriGiven: authorize.redirectUriGiven,
      codeChallenge: authorize.codeChallenge,
      scope: authorize.scope,
      browserSessionId: browser.id,
      authTime: browser.authTime,
      nonce: authorize.nonce,
    });

  const showLoginPage = (
    reply: FastifyReply,
    status: number,
    request: AuthorizeRequest,
    params: RequestParams,
    csrfToken: string,
    extra: { email?: string; error?: string } = {},
  ): FastifyReply => {
    const hidden = AUTHORIZE_PARAMS.flatMap((name) => {
      const value = params.get(name);
      return value === undefined ? [] : [[name, value] as const];
    });
    const formAction = formActionSource(request.redirectUri);
    reply.header('set-cookie', csrf.setCookie(csrfToken));
    return sendHtml(
      reply,
      status,
      renderLoginPage({
        clientName: request.client.name,
        redirectHost: redirectHost(request.redirectUri),
        scopes: request.scope === '' ? [] : request.scope.split(' '),
        hidden,
        csrfField: CSRF_FIELD,
        csrfToken,
        ...extra,
      }),
      { formAction: formAction === undefined ? [] : [formAction] },
    );
  };

  /**
   * An authentication request arriving (a GET, or a POST of its parameters): signed in at once
   * through the browser session, refused for prompt=none, or the login page. `status`: 302 after
   * a GET, 303 after a POST (the browser follows with a GET).
   */
  const beginAuthorization = async (request: FastifyRequest, reply: FastifyReply, params: RequestParams, status: 302 | 303) => {
    const check = await checkAuthorizeRequest(deps.store, params);
    if (check.kind !== 'ok') return sendCheckFailure(request, reply, check, status, deps.issuer);
    const authorize = check.request;
    request.audit.clientId = authorize.client.id;

    // OpenID Connect Core §3.1.2.1-3: a live browser session signs the user in without a page,
    // unless the app asks for a new login (prompt=login) or the last one is older than max_age.
    const browser = await deps.browserSessions.find(sessionCookie.read(request.headers.cookie));
    const maxAgeExceeded =
      browser !== undefined && authorize.maxAge !== null && deps.clock.now() - browser.session.authTime > authorize.maxAge * 1000;
    if (browser && !authorize.prompt.has('login') && !maxAgeExceeded) {
      const code = await deps.store.transaction((tx) => mintCode(tx, authorize, browser.user.id, browser.session));
      request.audit.outcome = 'browser_session';
      return reply.code(status).header('location', codeRedirect(authorize, code)).send();
    }
    // Core §3.1.2.6: with prompt=none the server "MUST NOT display any authentication" page.
    if (authorize.prompt.has('none')) {
      const failure = new OAuthError('login_required', 'The user is not signed in (prompt=none).');
      return sendCheckFailure(
        request,
        reply,
        { kind: 'redirect', redirectUri: authorize.redirectUri, state: authorize.state, error: failure },
        status,
        deps.issuer,
      );
    }
    // Reuse a token this server set, so two open login tabs both keep working.
    const csrfToken = (await csrf.fromCookie(request.headers.cookie)) ?? (await csrf.newToken());
    return showLoginPage(reply, 200, check.request, params, csrfToken);
  };

  app.get('/oauth/authorize', { errorHandler: renderErrorAsPage }, async (request, reply) =>
    // A repeated parameter throws invalid_request here: an error page, since nothing is verified yet.
    beginAuthorization(request, reply, RequestParams.from(rawQuery(request.url), ''), 302),
  );

  app.post('/oauth/authorize', { errorHandler: renderErrorAsPage }, async (request, reply) => {
    // The form's own fields only: credentials never belong in a URL, so the query string is not read.
    const params = RequestParams.from('', typeof request.body === 'string' ? request.body : '');
    // OpenID Connect Core §3.1.2.1: the server "MUST support the use of the HTTP GET and POST
    // methods". A POST without the login form's fields is an authentication request, as a GET.
    if (params.get(CSRF_FIELD) === undefined && params.get('email') === undefined && params.get('password') === undefined) {
      return beginAuthorization(request, reply, params, 303);
    }
    // The hidden fields are user input like any other: the whole request is checked again.
    const check = await checkAuthorizeRequest(deps.store, params);
    if (check.kind !== 'ok') return sendCheckFailure(request, reply, check, 303, deps.issuer);
    const authorize = check.request;
    const client = authorize.client;
    request.audit.clientId = client.id;

    // A cookie this server did not make counts as no cookie.
    const cookieToken = await csrf.fromCookie(request.headers.cookie);
    if (!csrf.matches(cookieToken, params.get(CSRF_FIELD))) {
      // A forged submit, or a form older than its cookie: nothing is checked, the user starts over.
      request.audit.outcome = 'csrf_failed';
      return showLoginPage(reply, 403, authorize, params, await csrf.newToken(), { error: MESSAGES.staleForm });
    }

    const email = params.get('email');
    const password = params.get('password');
    // Contract §10: the email decides first. A domain that signs in through its organization's
    // IdP goes there, and a password typed beside it is never checked.
    const idp = email === undefined ? undefined : await deps.sso.idpForEmail(email);
    if (idp !== undefined) {
      // One binding cookie per browser, reused by a second tab (each sign-in has its own row).
      const nonce = ssoCookie.read(request.headers.cookie) ?? deps.sso.newBrowserNonce();
      const { redirectUrl } = await deps.sso.start({ idp, authorize, scope: authorize.scope, browserNonce: nonce });
      request.audit.outcome = 'sso_redirect';
      reply.header('set-cookie', ssoCookie.setCookie(nonce));
      return sendHtml(reply, 200, renderSsoRedirectPage({ url: redirectUrl }));
    }
    if (email === undefined || password === undefined) {
      request.audit.outcome = 'invalid_request';
      return showLoginPage(reply, 400, authorize, params, cookieToken, { email, error: MESSAGES.missing });
    }
    const context = { ip: request.ip, requestId: request.id, clientId: client.id };
    let user;
    try {
      user = await checkPasswordLogin(deps.passwordLogin, { email, password, clientId: client.id, context });
    } catch (error) {
      if (!(error instanceof OAuthError) || error.code !== 'slow_down') throw error;
      // Locked out: the page says so (429 + Retry-After) without checking the password.
      request.audit.outcome = 'slow_down';
      reply.headers(error.headers);
      return showLoginPage(reply, 429, authorize, params, cookieToken, { email, error: MESSAGES.throttled });
    }
    if (!user) {
      // Same message for an unknown email and a wrong password: the page reveals no accounts.
      request.audit.outcome = 'login_failed';
      return showLoginPage(reply, 400, authorize, params, cookieToken, { email, error: MESSAGES.badLogin });
    }

    // Contract §11: the sign-in starts (or renews) this browser's session, written with the code.
    const current = await deps.browserSessions.find(sessionCookie.read(request.headers.cookie));
    const { code, cookie } = await deps.store.transaction(async (tx) => {
      const signedIn = await deps.browserSessions.signedIn(tx, user, current, context);
      return { code: await mintCode(tx, authorize, user.id, signedIn.session), cookie: signedIn.cookie };
    });
    if (cookie !== undefined) reply.header('set-cookie', sessionCookie.setCookie(cookie));
    // 303: the browser follows a POST with a GET.
    return reply.code(303).header('location', codeRedirect(authorize, code)).send();
  });
}

/** The host (or scheme, for app schemes) the user returns to, for the page's note. */
function redirectHost(redirectUri: string): string {
  try {
    const url = new URL(redirectUri);
    return url.host || url.protocol.replace(/:$/, '');
  } catch {
    return redirectUri;
  }
}
