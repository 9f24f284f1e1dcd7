import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.ts';
import { OAuthError } from '../../common/oauth-error.ts';
import { constantTimeEqual } from '../../crypto/secrets.ts';
import type { Client, Store } from '../../store/store.ts';
import { renderErrorPage } from '../views/error-page.ts';
import { escapeHtml, htmlDocument, sendHtml } from '../views/html.ts';
import { ConsoleBundle, pickEncoding } from './console-assets.ts';
import { CONSOLE_CLIENT_ID, CONSOLE_SCOPE, consoleCallbackUrl, ensureConsoleClient } from './console-client.ts';
import { CONSOLE_CSRF_HEADER, type ConsoleContext, sendProblem } from './console-context.ts';
import { ConsoleCookies } from './console-cookies.ts';
import { consoleHeaders, renderConsolePage } from './console-page.ts';
import { registerConsoleProxy } from './console-proxy.ts';
import { ConsoleSessions, pkceChallenge, SIGN_IN_TTL_MS } from './console-sessions.ts';
import { ConsoleTokenExchange, type ConsoleTokenExchangeDeps } from './console-token-exchange.ts';

/**
 * The admin console (contract §9, `GET /admin`) as a backend-for-frontend: the browser holds an
 * HttpOnly cookie and nothing else; the console's tokens stay on the server (console-sessions.ts)
 * and its calls reach the admin API through a same-origin proxy (console-proxy.ts).
 *
 *   /admin/login     starts the authorization-code flow with PKCE (state + verifier server-side)
 *   /admin/callback  checks state and iss, exchanges the code in-process, opens the session
 *   /admin/logout    revokes the tokens (ending the server session) and clears the cookie
 *   /admin/session   who is signed in (JSON, for the page's header)
 *   /admin, /admin/<page>  the page (signed in) or a redirect to /admin/login
 *   /admin/assets/*  the hashed, precompressed bundle
 */
export interface ConsoleRouteDeps extends ConsoleTokenExchangeDeps {
  store: Store;
  clock: Clock;
  issuer: string;
  /** where the bundle is (tests may point elsewhere); dist/console-ui/ by default */
  bundle?: ConsoleBundle;
}

/** The console's pages (front-end routes): anything else under /admin/ is not the console's. */
export const CONSOLE_PAGES = ['orgs', 'users', 'clients', 'idps', 'sessions', 'events', 'keys'] as const;

/** Refresh a little before expiry, so a forwarded call never carries a token that dies on the way. */
const REFRESH_MARGIN_MS = 30_000;

export function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleRouteDeps): void {
  const issuer = deps.issuer.replace(/\/+$/, '');
  const issuerOrigin = new URL(issuer).origin;
  const cookies = new ConsoleCookies({ secure: issuer.startsWith('https:') });
  const sessions = new ConsoleSessions({ store: deps.store, clock: deps.clock });
  const exchange = new ConsoleTokenExchange(deps);
  const bundle = deps.bundle ?? new ConsoleBundle();
  const callbackUrl = consoleCallbackUrl(issuer);
  // Read afresh each time (one row): a console client deleted or changed through the API is made again, or its change seen.
  const client = (): Promise<Client> => ensureConsoleClient({ store: deps.store, clock: deps.clock, issuer });
  const eventContext = (request: FastifyRequest) => ({ ip: request.ip, requestId: request.id, clientId: CONSOLE_CLIENT_ID });

  const ctx: ConsoleContext = {
    sessions,
    cookies,
    exchange,
    issuer,
    client,
    async current(request) {
      const id = cookies.readSession(request.headers.cookie);
      if (id === undefined) return undefined;
      const session = await sessions.find(id);
      if (!session) return undefined;
      if (session.tokens.accessExpiresAt - REFRESH_MARGIN_MS > deps.clock.now()) return session;
      const fresh = await exchange.refresh(await client(), session.tokens, eventContext(request));
      if (!fresh) {
        await sessions.end(id);
        return undefined;
      }
      return sessions.replaceTokens(session, fresh);
    },
    fromConsole(request) {
      if (request.headers[CONSOLE_CSRF_HEADER] !== '1') return false;
      const site = request.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin') return false;
      const origin = request.headers.origin;
      return origin === undefined || origin === issuerOrigin;
    },
  };

  // Created on first start (server.ts calls this through the route's onReady), and again lazily if it was deleted.
  app.addHook('onReady', async () => {
    await client();
  });

  const sendPage = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = await ctx.current(request);
    if (!session) return reply.code(302).header('location', '/admin/login').send();
    const manifest = bundle.manifest();
    if (!manifest) {
      request.log.error('the admin console bundle is missing: run npm run build');
      return sendHtml(reply, 503, renderErrorPage({ description: 'The admin console is not built on this server.' }));
    }
    return consoleHeaders(reply)
      .code(200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(renderConsolePage(manifest));
  };

  app.get('/admin', sendPage);
  app.get<{ Params: { page: string } }>('/admin/:page', async (request, reply) => {
    if (!(CONSOLE_PAGES as readonly string[]).includes(request.params.page)) throw new OAuthError('not_found', 'No such endpoint.');
    return sendPage(request, reply);
  });

  app.get('/admin/login', async (request, reply) => {
    const consoleClient = await client();
    const { id, pending } = await sessions.startSignIn();
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: consoleClient.id,
      redirect_uri: callbackUrl,
      scope: CONSOLE_SCOPE,
      state: pending.state,
      code_challenge: pkceChallenge(pending.verifier),
      code_challenge_method: 'S256',
    });
    request.audit.outcome = 'console_sign_in';
    return reply
      .code(302)
      .header('set-cookie', cookies.signIn(id, SIGN_IN_TTL_MS / 1000))
      .header('location', `/oauth/authorize?${query.toString()}`)
      .send();
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/admin/callback', async (request, reply) => {
    const one = (name: string) => {
      const value = request.query[name];
      return typeof value === 'string' ? value : undefined;
    };
    const id = cookies.readSignIn(request.headers.cookie);
    const pending = id === undefined ? undefined : await sessions.takeSignIn(id);
    reply.header('set-cookie', cookies.clearSignIn());
    const state = one('state');
    // RFC 6749 §10.12: the state ties this response to the sign-in this browser started.
    if (!pending || state === undefined || !constantTimeEqual(state, pending.state)) {
      request.audit.outcome = 'console_state_mismatch';
      return sendRetryPage(reply, 400, 'This sign-in expired or was started in another browser.');
    }
    // RFC 9207: the response names its issuer; a different one is a mix-up.
    if (one('iss') !== undefined && one('iss') !== issuer) {
      request.audit.outcome = 'console_issuer_mismatch';
      return sendRetryPage(reply, 400, 'The sign-in answer came from another server.');
    }
    const code = one('code');
    if (one('error') !== undefined || code === undefined) {
      request.audit.outcome = one('error') ?? 'invalid_request';
      return sendRetryPage(reply, 400, one('error_description') ?? 'The sign-in was not completed.');
    }
    let signedIn;
    try {
      signedIn = await exchange.exchangeCode(
        await client(),
        { code, redirectUri: callbackUrl, verifier: pending.verifier },
        eventContext(request),
      );
    } catch (error) {
      if (!(error instanceof OAuthError) || error.status >= 500) throw error;
      request.audit.outcome = error.code;
      return sendRetryPage(reply, 400, error.description);
    }
    const session = await sessions.create(signedIn.userId, signedIn.tokens);
    request.audit.outcome = 'console_signed_in';
    // A page, not a 302: after an IdP's cross-site POST the redirect chain is cross-site, and the
    // new SameSite=Strict cookie would not go with a redirect; a meta refresh is a same-site navigation.
    reply.header('set-cookie', [cookies.clearSignIn(), cookies.session(session.id, (session.expiresAt - deps.clock.now()) / 1000)]);
    return sendHtml(
      reply,
      200,
      htmlDocument({
        title: 'Signed in \u2013 sei-auth admin',
        head: '<meta http-equiv="refresh" content="0;url=/admin">\n',
        body: '<h1>Signed in</h1>\n<p class="lead">Opening the admin console\u2026</p>\n<a class="button" href="/admin">Open the console</a>',
      }),
    );
  });

  app.post('/admin/logout', async (request, reply) => {
    if (!ctx.fromConsole(request)) return sendProblem(reply, 403, 'Forbidden', `Send the ${CONSOLE_CSRF_HEADER} header from the console.`);
    const id = cookies.readSession(request.headers.cookie);
    const session = id === undefined ? undefined : await sessions.find(id);
    if (session) {
      // Revoking ends the sei-auth session behind the tokens (RFC 7009 §2.1), not only the cookie.
      await exchange.revoke(await client(), session.tokens, eventContext(request));
      await sessions.end(session.id);
    }
    request.audit.outcome = 'console_signed_out';
    return reply.code(204).header('set-cookie', cookies.clearSession()).send();
  });

  app.get('/admin/session', async (request, reply) => {
    const session = await ctx.current(request);
    if (!session) return sendProblem(reply, 401, 'Unauthorized', 'Sign in to the console.');
    const user = await deps.store.users.find(session.userId);
    return consoleHeaders(reply).send({
      user_id: session.userId,
      email: user?.email ?? null,
      org: user?.orgId ?? null,
      role: user?.role ?? null,
      expires_at: new Date(session.expiresAt).toISOString(),
    });
  });

  app.get<{ Params: { name: string } }>('/admin/assets/:name', async (request, reply) => {
    const file = bundle.file(request.params.name);
    if (!file) throw new OAuthError('not_found', 'No such endpoint.');
    const encoding = pickEncoding(file, request.headers['accept-encoding']);
    consoleHeaders(reply)
      .header('content-type', file.type)
      // Content-hashed names: a new build is a new name, so a year's caching is safe.
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('vary', 'accept-encoding');
    if (encoding) reply.header('content-encoding', encoding);
    return reply.send(encoding === 'br' ? file.br : encoding === 'gzip' ? file.gzip : file.identity);
  });

  registerConsoleProxy(app, ctx);
}

function sendRetryPage(reply: FastifyReply, status: number, message: string): FastifyReply {
  return sendHtml(
    reply,
    status,
    htmlDocument({
      title: 'Sign-in failed \u2013 sei-auth admin',
      body: `<h1>Sign-in failed</h1>\n<div class="alert" role="alert">${escapeHtml(message)}</div>\n<a class="button" href="/admin/login">Sign in again</a>`,
    }),
  );
}
