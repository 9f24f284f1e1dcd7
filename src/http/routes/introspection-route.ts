import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.ts';
import { hashSecret } from '../../crypto/secrets.ts';
import type { Store, TokenRecord } from '../../store/store.ts';
import { authenticatedRequest } from '../request-params.ts';

export interface IntrospectionDeps {
  store: Store;
  clock: Clock;
  issuer: string;
}

type TokenKind = 'access_token' | 'refresh_token';

/** Looks a presented token up as the hinted kind first, then the other (RFC 7009 §2.1, RFC 7662 §2.1). */
export async function findPresentedToken(
  store: Store,
  token: string,
  hint: string | undefined,
): Promise<{ kind: TokenKind; record: TokenRecord } | undefined> {
  const hash = hashSecret(token);
  const order: TokenKind[] = hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
  for (const kind of order) {
    const record = kind === 'access_token' ? await store.findAccessToken(hash) : await store.findRefreshToken(hash);
    if (record) return { kind, record };
  }
  return undefined;
}

/** Alive: not revoked, not rotated, not expired, and its session has not ended. */
export function isActive(record: TokenRecord, now: number): boolean {
  return record.revokedAt === null && record.rotatedAt === null && record.session.endedAt === null && record.expiresAt > now;
}

/** RFC 7662 token introspection, for resource servers (any authenticated client). */
export function registerIntrospectionRoute(app: FastifyInstance, deps: IntrospectionDeps): void {
  app.post('/oauth/introspect', async (request) => {
    // Any authenticated client may introspect: resource servers check tokens issued to others.
    const { params, client } = await authenticatedRequest(request, deps.store);
    const token = params.require('token');

    const found = await findPresentedToken(deps.store, token, params.get('token_type_hint'));
    const now = deps.clock.now();
    // RFC 7662 §2.2: for an inactive or unknown token, "active": false and nothing more.
    if (!found || !isActive(found.record, now)) return { active: false };
    const { record, kind } = found;
    // Only an access token's type needs its client; when that is the caller (a first-party API
    // checking its own tokens) the row read for this request's authentication is reused rather
    // than read a second time (issue #8 profile: a third query per introspection).
    const issuedTo =
      kind !== 'access_token' ? undefined : record.session.clientId === client.id ? client : await deps.store.findClient(record.session.clientId);
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
