import type { FastifyRequest } from 'fastify';
import { authenticateClient, presentedCredentials } from '../clients/client-auth.ts';
import type { Clock } from '../clock.ts';
import { RequestParams, rawQuery } from '../common/request-params.ts';
import type { Client, Store } from '../store/store.ts';
import type { RateLimits } from './rate-limiter.ts';

const parsed = new WeakMap<FastifyRequest, RequestParams>();

/**
 * Parameters of a POST from both places (seed: "either be in the query string or
 * x-www-urlencoded-form"), parsed once per request (the rate limiter may read client_id early).
 */
export function requestParams(request: FastifyRequest): RequestParams {
  let params = parsed.get(request);
  if (!params) {
    params = RequestParams.from(rawQuery(request.url), typeof request.body === 'string' ? request.body : '');
    parsed.set(request, params);
  }
  return params;
}

/**
 * The request's parameters and its authenticated client (the token, introspection and revocation
 * endpoints). Only here does a request spend its client's rate-limit budget: a request that
 * merely claims a client id, with a wrong secret, never does (it counts against its address).
 */
export async function authenticatedRequest(
  request: FastifyRequest,
  store: Store,
  limits: RateLimits,
  clock: Clock,
): Promise<{ params: RequestParams; client: Client }> {
  const params = requestParams(request);
  let client: Client;
  try {
    client = await authenticateClient(store, presentedCredentials(params, request.headers.authorization), clock.now());
  } catch (error) {
    // An address over its per-IP budget may still serve the clients that authenticate; any other request is refused.
    const wait = request.audit.addressWaitMs;
    if (wait !== undefined) throw limits.refuseAddress(wait);
    throw error;
  }
  // A public client (contract §11) names itself without proving anything: anyone can, so its
  // requests stay under the per-IP limit like any unauthenticated request.
  if (client.public) {
    const wait = request.audit.addressWaitMs;
    if (wait !== undefined) throw limits.refuseAddress(wait);
    request.audit.unprovenClient = true;
  }
  request.audit.clientId = client.id;
  limits.clientAuthenticated(client.id);
  return { params, client };
}
