import type { FastifyRequest } from 'fastify';
import { authenticateClient, presentedCredentials } from '../clients/client-auth.ts';
import { RequestParams, rawQuery } from '../common/request-params.ts';
import type { Client, Store } from '../store/store.ts';

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

/** The request's parameters and its authenticated client (the token, introspection and revocation endpoints). */
export async function authenticatedRequest(request: FastifyRequest, store: Store): Promise<{ params: RequestParams; client: Client }> {
  const params = requestParams(request);
  const client = await authenticateClient(store, presentedCredentials(params, request.headers.authorization));
  request.audit.clientId = client.id;
  return { params, client };
}
