import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../../common/oauth-error.ts';
import { RequestParams, rawQuery } from '../../common/request-params.ts';
import { missingBearerToken, type UserInfo } from '../../oidc/userinfo.ts';

/** RFC 6750 §2.1: `Authorization: Bearer <token>`; the scheme is case-insensitive. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The access token of a userinfo request: the Authorization header (RFC 6750 §2.1) or, on a POST,
 * the `access_token` form field (§2.2) — exactly one of them (§2: "MUST NOT use more than one
 * method"). Never the query string (§2.3 exposes it to logs and history).
 */
function presentedBearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const body = request.method === 'POST' && typeof request.body === 'string' ? request.body : '';
  const fromBody = RequestParams.from('', body).get('access_token');
  if (RequestParams.from(rawQuery(request.url), '').get('access_token') !== undefined) {
    throw new OAuthError('invalid_request', 'Send the access token in the Authorization header, not in the URL.');
  }
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match) throw missingBearerToken();
    if (fromBody !== undefined) throw new OAuthError('invalid_request', 'Send the access token once: in the header or in the body.');
    return match[1]!;
  }
  if (fromBody === undefined) throw missingBearerToken();
  return fromBody;
}

/** OpenID Connect Core §5.3: GET and POST /oauth/userinfo (§5.3.1: both MUST be supported). */
export function registerUserInfoRoute(app: FastifyInstance, deps: { userInfo: UserInfo }): void {
  const handler = async (request: FastifyRequest) => deps.userInfo.claims(presentedBearer(request));
  app.get('/oauth/userinfo', handler);
  app.post('/oauth/userinfo', handler);
}
