import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.ts';
import type { Store } from '../../store/store.ts';
import { findPresentedToken, isActive } from '../../tokens/token-lookup.ts';
import { authenticatedRequest } from '../parsed-request.ts';
import type { RateLimits } from '../rate-limiter.ts';

export interface IntrospectionDeps {
  store: Store;
  clock: Clock;
  issuer: string;
  rateLimits: RateLimits;
}

/** RFC 7662 token introspection, for resource servers (any authenticated client). */
export function registerIntrospectionRoute(app: FastifyInstance, deps: IntrospectionDeps): void {
  app.post('/oauth/introspect', async (request) => {
    // Any authenticated client may introspect: resource servers check tokens issued to others.
    const { params, client } = await authenticatedRequest(request, deps.store, deps.rateLimits);
    const token = params.require('token');

    const found = await findPresentedToken(deps.store, token, params.get('token_type_hint'));
    const now = deps.clock.now();
    // RFC 7662 §2.2: for an inactive or unknown token, "active": false and nothing more.
    if (!found || !isActive(found.record, now)) return { active: false };
    const { record, kind } = found;
    // Only an access token's type needs its client; when that is the caller (a first-party API
    // checking its own tokens) the row read to authenticate this request is reused.
    const issuedTo =
      kind !== 'access_token'
        ? undefined
        : record.session.clientId === client.id
          ? client
          : await deps.store.clients.find(record.session.clientId);
    return {
      active: true,
      client_id: record.session.clientId,
      username: record.email,
      email: record.email,
      sub: record.session.userId,
      sid: record.sessionId,
      token_type: kind === 'access_token' ? (issuedTo?.tokenType ?? 'Bearer') : 'refresh_token',
      exp: Math.floor(record.expiresAt / 1000),
      iat: Math.floor(record.createdAt / 1000),
      iss: deps.issuer,
    };
  });
}
