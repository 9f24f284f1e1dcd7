import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateClient, presentedCredentials } from '../../domain/client-auth.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { Grant } from '../../grants/grant.ts';
import type { Store } from '../../store/store.ts';
import { RequestParams, rawQuery } from '../params.ts';

export interface TokenRouteDeps {
  store: Store;
  grants: ReadonlyMap<string, Grant>;
}

/** seed: endOtherSessions is "true or false with false as the default value"; nothing else. */
export function parseEndOtherSessions(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new OAuthError('invalid_request', 'endOtherSessions must be true or false.');
}

const parsed = new WeakMap<FastifyRequest, RequestParams>();

/**
 * Parameters of a POST from both places (seed: "either be in the query string or
 * x-www-urlencoded-form"), parsed once per request (the rate limiter reads client_id early).
 */
export function requestParams(request: FastifyRequest): RequestParams {
  let params = parsed.get(request);
  if (!params) {
    params = RequestParams.from(rawQuery(request.url), typeof request.body === 'string' ? request.body : '');
    parsed.set(request, params);
  }
  return params;
}

export function registerTokenRoute(app: FastifyInstance, deps: TokenRouteDeps): void {
  app.post('/oauth/token', async (request, reply) => {
    const params = requestParams(request);
    const grantType = params.require('grant_type');
    const grant = deps.grants.get(grantType);
    if (!grant) throw new OAuthError('unsupported_grant_type', 'This grant_type is not supported.');
    request.audit.grantType = grantType;
    const endOtherSessions = parseEndOtherSessions(params.get('endOtherSessions'));

    const client = await authenticateClient(deps.store, presentedCredentials(params, request.headers.authorization));
    request.audit.clientId = client.id;

    const tokens = await grant.handle({
      params,
      client,
      endOtherSessions,
      context: { ip: request.ip, requestId: request.id, clientId: client.id },
    });
    // RFC 6749 §5.1: "The authorization server MUST include the HTTP Cache-Control response header field with a value of no-store".
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return tokens;
  });
}
