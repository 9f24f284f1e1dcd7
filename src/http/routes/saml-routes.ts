import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../common/oauth-error.ts';
import { RequestParams } from '../../common/request-params.ts';
import type { BrowserSso } from '../../sso/browser-sso.ts';
import { SsoRefusal } from '../../sso/sso-refusal.ts';
import { BrowserSessionCookie } from '../browser-session-cookie.ts';
import { renderErrorAsPage } from '../render-error-page.ts';
import { SsoBrowserCookie } from '../sso-cookie.ts';
import { sendHtml } from '../views/html.ts';
import { renderSsoRefusalPage } from '../views/sso-refusal-page.ts';

/**
 * The service provider's side of SAML browser SSO (contract §10): its metadata, and the
 * assertion consumer service the IdP's HTTP-POST binding answers to. The logic is BrowserSso's;
 * this turns it into pages and redirects.
 */
export interface SamlRoutesDeps {
  sso: BrowserSso;
  issuer: string;
}

export function registerSamlRoutes(app: FastifyInstance, deps: SamlRoutesDeps): void {
  const cookie = new SsoBrowserCookie({ secure: deps.issuer.startsWith('https:') });
  const sessionCookie = new BrowserSessionCookie({ secure: deps.issuer.startsWith('https:') });

  // saml-metadata §4.1.1: the registered media type of SAML metadata.
  app.get('/saml/metadata', async (_request, reply) =>
    reply
      .header('content-type', 'application/samlmetadata+xml; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(await deps.sso.metadata()),
  );

  app.post('/saml/acs', { errorHandler: renderErrorAsPage }, async (request, reply) => {
    // saml-bindings §3.5.4: SAMLResponse and RelayState are form fields. The body is never logged
    // (the request line names the route only) and never echoed.
    let samlResponse: string | undefined;
    let relayState: string | undefined;
    try {
      const params = RequestParams.from('', typeof request.body === 'string' ? request.body : '');
      samlResponse = params.get('SAMLResponse');
      relayState = params.get('RelayState');
    } catch (error) {
      // A repeated field: refused like a missing one (BrowserSso records it).
      if (!(error instanceof OAuthError)) throw error;
    }
    try {
      const { redirectUrl, clientId, browserSessionCookie } = await deps.sso.finish({
        samlResponse,
        relayState,
        browserNonce: cookie.read(request.headers.cookie),
        context: { ip: request.ip, requestId: request.id },
      });
      request.audit.clientId = clientId;
      if (browserSessionCookie !== undefined) reply.header('set-cookie', sessionCookie.setCookie(browserSessionCookie));
      // RFC 6749 §4.1.2: back to the client with its code; 303, the browser follows with a GET.
      return reply.code(303).header('location', redirectUrl).send();
    } catch (error) {
      if (!(error instanceof SsoRefusal)) throw error;
      request.audit.outcome = 'sso_refused';
      return sendHtml(reply, 400, renderSsoRefusalPage({ supportCode: error.supportCode }));
    }
  });
}
