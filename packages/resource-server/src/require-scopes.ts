import type { preHandlerHookHandler } from 'fastify';
import { type NodeResponseLike, type ReplyLike, sendTokenError, writeTokenError } from './respond.js';
import { assertScopes, scopeList } from './scopes.js';
import { TokenError } from './token-error.js';
import { realmOf, type VerifiedToken } from './verified-token.js';

/** An Express-style handler: (req, res, next). */
export type ExpressStyleHandler = (req: { auth?: VerifiedToken | null }, res: NodeResponseLike, next: (error?: unknown) => void) => void;

function isFastifyReply(res: unknown): res is ReplyLike {
  return typeof res === 'object' && res !== null && 'raw' in res && typeof (res as { code?: unknown }).code === 'function';
}

/**
 * A route guard for fastify (a preHandler) and Express (a middleware) alike: 403
 * insufficient_scope unless the verified token (`req.auth`, set by the plugin or by
 * expressMiddleware) carries every scope listed — `requireScopes('orders:read')`,
 * `requireScopes('a b')` or `requireScopes(['a', 'b'])`. Without a verified token: 401.
 */
export function requireScopes(...scopes: ReadonlyArray<string | readonly string[]>): preHandlerHookHandler & ExpressStyleHandler {
  const required = scopeList(scopes);
  function guard(req: { auth?: VerifiedToken | null }, res: unknown, next: (error?: unknown) => void): void {
    const auth = req.auth;
    let refusal: TokenError | undefined;
    if (!auth) refusal = new TokenError(undefined, undefined, { realm: 'api' });
    else {
      try {
        assertScopes(auth, required, realmOf(auth));
      } catch (error) {
        if (!(error instanceof TokenError)) throw error;
        refusal = error;
      }
    }
    if (!refusal) next();
    else if (isFastifyReply(res)) sendTokenError(res, refusal);
    else writeTokenError(res as NodeResponseLike, refusal);
  }
  return guard as unknown as preHandlerHookHandler & ExpressStyleHandler;
}
