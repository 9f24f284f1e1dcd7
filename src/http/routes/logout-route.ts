import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { redirectWith } from '../../authorize/authorize-request.ts';
import { RequestParams, rawQuery } from '../../common/request-params.ts';
import { constantTimeEqual } from '../../crypto/secrets.ts';
import { LOGOUT_PARAMS, type RpLogout } from '../../oidc/rp-logout.ts';
import type { BrowserSessions } from '../../sessions/browser-sessions.ts';
import { BrowserSessionCookie } from '../browser-session-cookie.ts';
import { renderErrorAsPage } from '../render-error-page.ts';
import { formActionSource, sendHtml } from '../views/html.ts';
import { renderLogoutConfirmPage, renderSignedOutPage } from '../views/logout-pages.ts';

export interface LogoutRouteDeps {
  logout: RpLogout;
  browserSessions: BrowserSessions;
  issuer: string;
}

/** The confirmation form's field bound to the browser's session cookie. */
const CONFIRM_FIELD = 'confirm';

/**
 * GET and POST /oauth/logout, OpenID Connect RP-Initiated Logout 1.0 (§2: the OP "MUST support
 * the use of the HTTP GET and POST methods"). The rules are RpLogout's; this turns them into pages,
 * a cookie cleared and a redirect.
 */
export function registerLogoutRoute(app: FastifyInstance, deps: LogoutRouteDeps): void {
  const cookie = new BrowserSessionCookie({ secure: deps.issuer.startsWith('https:') });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.method === 'POST' && typeof request.body === 'string' ? request.body : '';
    const params = request.method === 'POST' ? RequestParams.from('', body) : RequestParams.from(rawQuery(request.url), '');
    const logout = await deps.logout.check(params);
    request.audit.clientId = logout.client?.id;
    const cookieValue = cookie.read(request.headers.cookie);
    const current = await deps.browserSessions.find(cookieValue);

    const confirmation = cookieValue === undefined ? undefined : deps.browserSessions.confirmationToken(cookieValue);
    const given = params.get(CONFIRM_FIELD);
    const confirmed =
      request.method === 'POST' && confirmation !== undefined && given !== undefined && constantTimeEqual(given, confirmation);
    if (current && confirmation && !confirmed && !deps.logout.mayEndWithoutAsking(logout, current)) {
      // Nothing proves the request came from an application the user signed in to: ask.
      request.audit.outcome = 'logout_confirmation';
      const hidden = LOGOUT_PARAMS.flatMap((name) => {
        const value = params.get(name);
        return value === undefined ? [] : [[name, value] as const];
      });
      const redirect = logout.postLogoutRedirectUri === undefined ? undefined : formActionSource(logout.postLogoutRedirectUri);
      return sendHtml(
        reply,
        200,
        renderLogoutConfirmPage({
          clientName: logout.client?.name,
          email: current.user.email,
          hidden: [...hidden, [CONFIRM_FIELD, confirmation]],
        }),
        { formAction: redirect === undefined ? [] : [redirect] },
      );
    }

    await deps.logout.end(logout, current, { ip: request.ip, requestId: request.id });
    request.audit.outcome = 'logged_out';
    if (cookieValue !== undefined) reply.header('set-cookie', cookie.clearCookie());
    if (logout.postLogoutRedirectUri !== undefined) {
      // §3: back to the registered URI, with state exactly as received. 303: a POST is followed with a GET.
      const location = redirectWith(logout.postLogoutRedirectUri, { state: logout.state });
      return reply
        .code(request.method === 'POST' ? 303 : 302)
        .header('location', location)
        .send();
    }
    return sendHtml(reply, 200, renderSignedOutPage());
  };

  app.get('/oauth/logout', { errorHandler: renderErrorAsPage }, handler);
  app.post('/oauth/logout', { errorHandler: renderErrorAsPage }, handler);
}
