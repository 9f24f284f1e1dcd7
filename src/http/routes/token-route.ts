import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.ts';
import { OAuthError } from '../../common/oauth-error.ts';
import { checkMayRequestTokens, type Grant } from '../../grants/grant.ts';
import type { LoginIssuer } from '../../sessions/login-issuer.ts';
import type { Store } from '../../store/store.ts';
import { requestedAudience } from '../../tokens/requested-audience.ts';
import { authenticatedRequest, requestParams } from '../parsed-request.ts';
import type { RateLimits } from '../rate-limiter.ts';
import { tokenResponse } from '../token-response.ts';

export interface TokenRouteDeps {
  store: Store;
  grants: ReadonlyMap<string, Grant>;
  logins: LoginIssuer;
  rateLimits: RateLimits;
  clock: Clock;
}

/** seed: endOtherSessions is "true or false with false as the default value"; nothing else. */
export function parseEndOtherSessions(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new OAuthError('invalid_request', 'endOtherSessions must be true or false.');
}

export function registerTokenRoute(app: FastifyInstance, deps: TokenRouteDeps): void {
  app.post('/oauth/token', async (request, reply) => {
    const params = requestParams(request);
    const grantType = params.require('grant_type');
    const grant = deps.grants.get(grantType);
    if (!grant) throw new OAuthError('unsupported_grant_type', 'This grant_type is not supported.');
    request.audit.grantType = grantType;
    const endOtherSessions = parseEndOtherSessions(params.get('endOtherSessions'));

    const { client } = await authenticatedRequest(request, deps.store, deps.rateLimits, deps.clock);

    checkMayRequestTokens(client, grantType);
    const audience = await requestedAudience(deps.store, params.get('resource'));

    const context = { ip: request.ip, requestId: request.id, clientId: client.id };
    const decision = await grant.decide({ params, client, endOtherSessions, audience, context });
    const issued = decision.kind === 'login' ? await deps.logins.issue(decision.login, context) : decision.tokens;
    // RFC 6749 §5.1: "The authorization server MUST include the HTTP Cache-Control response header field with a value of no-store".
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return tokenResponse(issued);
  });
}
