import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.ts';
import { OAuthError } from '../../common/oauth-error.ts';
import type { Store } from '../../store/store.ts';
import type { TokenIntrospection } from '../../tokens/token-introspection.ts';
import { authenticatedRequest } from '../parsed-request.ts';
import type { RateLimits } from '../rate-limiter.ts';

export interface IntrospectionDeps {
  store: Store;
  introspection: TokenIntrospection;
  rateLimits: RateLimits;
  clock: Clock;
}

/** RFC 7662 token introspection: the client must authenticate (§2.1); what it may read is tokens/token-introspection.ts's rule. */
export function registerIntrospectionRoute(app: FastifyInstance, deps: IntrospectionDeps): void {
  app.post('/oauth/introspect', async (request) => {
    const { params, client } = await authenticatedRequest(request, deps.store, deps.rateLimits, deps.clock);
    // RFC 7662 §2.1: introspection needs an authorized caller; a public client proves nothing about itself.
    if (client.public) throw new OAuthError('invalid_client', 'A public client cannot introspect tokens.');
    const token = params.require('token');
    return deps.introspection.introspect(client, token, params.get('token_type_hint'));
  });
}
