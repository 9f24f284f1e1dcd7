import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { VerifierOptions } from './options.js';
import { sendTokenError } from './respond.js';
import { TokenError } from './token-error.js';
import type { VerifiedToken } from './verified-token.js';
import { createVerifier, type Verifier } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the verified token (set by the sei-auth plugin; null before it ran) */
    auth: VerifiedToken | null;
  }
}

export type SeiAuthPluginOptions = (VerifierOptions | { verifier: Verifier }) & {
  /** scopes every request of the encapsulation context must carry */
  scopes?: readonly string[];
};

/**
 * The fastify plugin: verifies the bearer token of every request of the context it is registered
 * in (an onRequest hook), sets `request.auth`, and answers 400/401/403/503 with WWW-Authenticate.
 * It is not encapsulated (Symbol.for('skip-override'), what fastify-plugin sets), so the hook and
 * the decorator apply to the context that registers it: register it inside a plugin to protect
 * that plugin's routes only.
 */
const plugin: FastifyPluginCallback<SeiAuthPluginOptions> = (app, options, done) => {
  let verifier: Verifier;
  try {
    verifier = 'verifier' in options ? options.verifier : createVerifier(options);
  } catch (error) {
    done(error as Error);
    return;
  }
  const verifyOptions = options.scopes?.length ? { scopes: options.scopes } : undefined;
  if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      request.auth = await verifier.verify(request.headers.authorization, verifyOptions);
      return undefined;
    } catch (error) {
      if (error instanceof TokenError) return sendTokenError(reply, error);
      throw error;
    }
  });
  done();
};

Object.defineProperties(plugin, {
  [Symbol.for('skip-override')]: { value: true },
  [Symbol.for('fastify.display-name')]: { value: 'sei-auth-resource-server' },
});

export const seiAuth = plugin;
export const fastifyPlugin = plugin;
