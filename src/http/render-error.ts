import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError, toOAuthError } from '../common/oauth-error.ts';
import { StoreUnavailableError } from '../store/store.ts';
import { logRequest } from './request-audit.ts';

/**
 * Fastify's own errors (body too large, unsupported media type, malformed JSON …) carry a 4xx
 * status and a code; they become invalid_request with a fixed description (never the library's
 * message, which may quote the input).
 */
const FASTIFY_DESCRIPTIONS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported content type; send application/x-www-form-urlencoded.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Unsupported content type; send application/x-www-form-urlencoded.',
  FST_ERR_CTP_INVALID_JSON_BODY: 'Unsupported content type; send application/x-www-form-urlencoded.',
  FST_ERR_CTP_INVALID_TYPE: 'The Content-Type header is malformed.',
};

/** Any thrown value → the OAuthError that is safe to show. */
export function publicError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  if (error instanceof StoreUnavailableError) {
    return new OAuthError('temporarily_unavailable', 'The service is temporarily unavailable; retry shortly.', {
      headers: { 'Retry-After': '1' },
      cause: error,
    });
  }
  const fastifyError = error as Partial<FastifyError> | null;
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const description = FASTIFY_DESCRIPTIONS[fastifyError?.code ?? ''] ?? 'The request is malformed.';
    return new OAuthError('invalid_request', description, { status, cause: error });
  }
  return toOAuthError(error);
}

/** `application/json` and the `+json` types (RFC 6839). */
const JSON_MEDIA_TYPE = /^\s*application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * RFC 6749 §4.1.3 / §4.3.2, RFC 7662 §2.1, RFC 7009 §2.1: these requests are form-encoded. A JSON
 * body is a client mistake, answered as node-oidc-provider and fosite do — 400 invalid_request,
 * which OAuth client libraries show as an OAuth error — rather than a bare 415. The body is not
 * read. Other content types keep 415 (docs/operations.md, item 10).
 */
function jsonBodyRefused(error: unknown, request: FastifyRequest): OAuthError | undefined {
  if ((error as Partial<FastifyError> | null)?.code !== 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return undefined;
  const type = request.headers['content-type'];
  if (typeof type !== 'string' || !JSON_MEDIA_TYPE.test(type)) return undefined;
  return new OAuthError('invalid_request', 'JSON bodies are not accepted; send application/x-www-form-urlencoded.', { cause: error });
}

/** The one place an error becomes a response: RFC 6749 §5.2 JSON, no-store. */
export function renderError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const oauth = jsonBodyRefused(error, request) ?? publicError(error);
  // Framework errors (a URL that cannot be routed) arrive before the onRequest hooks have run,
  // and their replies skip onResponse too: the request line is written here instead.
  const hooksSkipped = !request.audit;
  request.audit ??= {};
  request.audit.outcome = oauth.code;
  if (oauth.status >= 500 && oauth.code === 'server_error') {
    // Only the error's class, code and stack: messages of lower layers stay out of responses.
    request.log.error({ err: oauth.cause ?? oauth }, 'unhandled error');
  }
  reply.code(oauth.status).headers(oauth.headers).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
  void reply.send({ error: oauth.code, error_description: oauth.description });
  if (hooksSkipped) logRequest(request, reply);
}
