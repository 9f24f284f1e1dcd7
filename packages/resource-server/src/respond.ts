import type { TokenError } from './token-error.js';

/** The part of a Node ServerResponse (or an Express response, which is one) that an error answer needs. */
export interface NodeResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
  headersSent?: boolean;
}

/** A fastify reply, structurally (no runtime import of fastify). */
export interface ReplyLike {
  code(status: number): ReplyLike;
  headers(values: Record<string, string>): ReplyLike;
  send(payload: unknown): ReplyLike;
}

/** The RFC 6750 answer to a refused request: status, WWW-Authenticate (and Retry-After), a JSON body. */
export function writeTokenError(res: NodeResponseLike, error: TokenError): void {
  if (res.headersSent) return;
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers())) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(error.body()));
}

export function sendTokenError(reply: ReplyLike, error: TokenError): ReplyLike {
  return reply
    .code(error.status)
    .headers({ ...error.headers(), 'cache-control': 'no-store' })
    .send(error.body());
}
