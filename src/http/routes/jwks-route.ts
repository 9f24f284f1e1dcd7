import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { KeyService } from '../../keys/key-service.ts';

export interface JwksDeps {
  keys: Pick<KeyService, 'jwks'>;
  /** JWKS_MAX_AGE: how long verifiers may cache the set (rotation publishes that far ahead) */
  maxAgeSeconds: number;
}

/**
 * GET /oauth/jwks: the public signing keys as a JWK Set (RFC 7517 §5), with the media type RFC
 * 7517 §8.5 registers. Public and cacheable — not a client endpoint, so never rate-limited as one.
 */
export function registerJwksRoute(app: FastifyInstance, deps: JwksDeps): void {
  app.get('/oauth/jwks', async (request, reply) => {
    const body = JSON.stringify(await deps.keys.jwks());
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    reply.header('cache-control', `public, max-age=${deps.maxAgeSeconds}`).header('etag', etag);
    // RFC 9110 §13.1.2: If-None-Match is a list of entity tags (or *); weak comparison.
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch && (ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))) {
      return reply.code(304).send();
    }
    return reply.type('application/jwk-set+json').send(body);
  });
}
