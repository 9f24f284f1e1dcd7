import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError, type AdminErrorKind } from '../common/admin-error.ts';
import { StoreUnavailableError } from '../store/store.ts';

/** The status and title of each kind of admin refusal (RFC 9457 §3.1). */
const KINDS: Readonly<Record<AdminErrorKind, { status: number; title: string }>> = {
  invalid: { status: 400, title: 'Bad Request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not Found' },
  method_not_allowed: { status: 405, title: 'Method Not Allowed' },
  conflict: { status: 409, title: 'Conflict' },
  precondition_failed: { status: 412, title: 'Precondition Failed' },
  precondition_required: { status: 428, title: 'Precondition Required' },
};

/** Fastify's own 4xx errors, with fixed details (never the library's message, which may quote the input). */
const FASTIFY_DETAILS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported content type; send application/json.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The JSON body is empty.',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The body is not valid JSON.',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}

/** Any thrown value → the RFC 9457 problem that is safe to show. */
export function problemOf(error: unknown): { problem: Problem; logged: boolean; retryAfter?: boolean } {
  const make = (kind: string, status: number, title: string, detail: string) => ({
    type: `urn:sei-auth:problem:${kind}`,
    title,
    status,
    detail,
  });
  if (error instanceof AdminError) {
    const { status, title } = KINDS[error.kind];
    return { problem: make(error.kind, status, title, error.message), logged: false };
  }
  if (error instanceof StoreUnavailableError) {
    return {
      problem: make('unavailable', 503, 'Service Unavailable', 'The store is unavailable; retry shortly.'),
      logged: false,
      retryAfter: true,
    };
  }
  const fastifyError = error as Partial<FastifyError> | null;
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      problem: make('invalid', status, 'Bad Request', FASTIFY_DETAILS[fastifyError?.code ?? ''] ?? 'The request is malformed.'),
      logged: false,
    };
  }
  return { problem: make('server_error', 500, 'Internal Server Error', 'The server failed; the error is logged.'), logged: true };
}

/**
 * The one place an admin API error becomes a response: `application/problem+json` (RFC 9457).
 * A 401 carries RFC 6750 §3's challenge; a 403 names the scope the token lacks.
 */
export function renderProblem(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { problem, logged, retryAfter } = problemOf(error);
  request.audit ??= {};
  request.audit.outcome = problem.type.slice('urn:sei-auth:problem:'.length);
  // Only the error's class, code and stack: messages of lower layers stay out of responses.
  if (logged) request.log.error({ err: error }, 'unhandled error');
  if (problem.status === 401) {
    const given = request.headers.authorization !== undefined;
    reply.header('www-authenticate', `Bearer realm="sei-auth admin"${given ? ', error="invalid_token"' : ''}`);
  }
  if (error instanceof AdminError && error.message.startsWith('the token lacks the scope')) {
    reply.header('www-authenticate', 'Bearer realm="sei-auth admin", error="insufficient_scope", scope="admin"');
  }
  if (retryAfter) reply.header('retry-after', '1');
  reply.code(problem.status).header('content-type', 'application/problem+json').header('cache-control', 'no-store');
  void reply.send(JSON.stringify(problem));
}
