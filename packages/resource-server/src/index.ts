/**
 * @sei-auth/resource-server (also `sei-auth/resource-server`): accept sei-auth access tokens in
 * an API. See docs/resource-servers.md.
 */
export { type ExpressMiddlewareOptions, expressMiddleware, type RequestLike } from './express-middleware.js';
export { fastifyPlugin, type SeiAuthPluginOptions, seiAuth } from './fastify-plugin.js';
export { JWT_ALGORITHMS, type JwtAlgorithm, type VerifierOptions } from './options.js';
export { type ExpressStyleHandler, requireScopes } from './require-scopes.js';
export type { NodeResponseLike } from './respond.js';
export { isTokenError, TokenError, type TokenErrorCode } from './token-error.js';
export type { VerifiedToken } from './verified-token.js';
export { createVerifier, type Verifier, type VerifyOptions } from './verifier.js';
