import type { VerifierOptions } from './options.js';
import { type NodeResponseLike, writeTokenError } from './respond.js';
import { TokenError } from './token-error.js';
import type { VerifiedToken } from './verified-token.js';
import { createVerifier, type Verifier } from './verifier.js';

/** The part of a Node/Express request the middleware reads and writes. */
export interface RequestLike {
  headers: { authorization?: string | undefined };
  /** the verified token, once the middleware ran */
  auth?: VerifiedToken | null;
}

export type ExpressMiddlewareOptions = (VerifierOptions | { verifier: Verifier }) & {
  /** scopes every request it guards must carry */
  scopes?: readonly string[];
};

/**
 * An Express-style middleware `(req, res, next)` (Express, Connect, or plain node:http with a
 * next of your own): verifies the bearer token, sets `req.auth` and calls next(); otherwise
 * answers 400/401/403/503 itself with WWW-Authenticate and `{ error, error_description }`.
 */
export function expressMiddleware(
  options: ExpressMiddlewareOptions,
): (req: RequestLike, res: NodeResponseLike, next: (error?: unknown) => void) => void {
  const verifier = 'verifier' in options ? options.verifier : createVerifier(options);
  const verifyOptions = options.scopes?.length ? { scopes: options.scopes } : undefined;
  return (req, res, next) => {
    verifier.verify(req.headers.authorization, verifyOptions).then(
      (token) => {
        req.auth = token;
        next();
      },
      (error: unknown) => {
        if (error instanceof TokenError) writeTokenError(res, error);
        else next(error);
      },
    );
  };
}
