import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.ts';
import type { Store } from '../../store/store.ts';
import type { TokenRevocation } from '../../tokens/token-revocation.ts';
import { authenticatedRequest } from '../parsed-request.ts';
import type { RateLimits } from '../rate-limiter.ts';

/** RFC 7009 token revocation (logout); the rules are in tokens/token-revocation.ts. */
export function registerRevocationRoute(
  app: FastifyInstance,
  deps: { store: Store; revocation: TokenRevocation; rateLimits: RateLimits; clock: Clock },
): void {
  app.post('/oauth/revoke', async (request) => {
    const { params, client } = await authenticatedRequest(request, deps.store, deps.rateLimits, deps.clock);
    const token = params.require('token');
    await deps.revocation.revoke(client, token, params.get('token_type_hint'), {
      ip: request.ip,
      requestId: request.id,
      clientId: client.id,
    });
    return {};
  });
}
