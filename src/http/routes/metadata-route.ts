import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../common/oauth-error.ts';

export interface MetadataDeps {
  issuer: string;
  grantTypes: readonly string[];
  /** present once the authorization endpoint is served */
  authorizationEndpoint?: boolean;
}

/** RFC 8414 authorization server metadata: only what this server really serves. */
export function authorizationServerMetadata(deps: MetadataDeps): Record<string, unknown> {
  const base = deps.issuer;
  const authMethods = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer: base,
    ...(deps.authorizationEndpoint
      ? {
          authorization_endpoint: `${base}/oauth/authorize`,
          response_types_supported: ['code'],
          response_modes_supported: ['query'],
          code_challenge_methods_supported: ['S256'],
          authorization_response_iss_parameter_supported: true,
        }
      : { response_types_supported: [] }),
    token_endpoint: `${base}/oauth/token`,
    token_endpoint_auth_methods_supported: authMethods,
    grant_types_supported: [...deps.grantTypes],
    introspection_endpoint: `${base}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint: `${base}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: authMethods,
  };
}

const WELL_KNOWN = '/.well-known/oauth-authorization-server';

export function registerMetadataRoute(app: FastifyInstance, deps: MetadataDeps): void {
  const document = authorizationServerMetadata(deps);
  app.get(WELL_KNOWN, async () => document);
  // RFC 8414 §3.1: for an issuer with a path component, the well-known URI is inserted between
  // the host and that path — https://host/sei has its metadata at
  // https://host/.well-known/oauth-authorization-server/sei (where Authlib, among others, looks).
  // Matched on the raw request path, so any characters of the issuer's path work.
  const path = new URL(deps.issuer).pathname.replace(/\/+$/, '');
  if (path === '') return;
  const insertedPath = `${WELL_KNOWN}${path}`;
  app.get(`${WELL_KNOWN}/*`, async (request) => {
    if (request.url.split('?')[0] !== insertedPath) throw new OAuthError('not_found', 'No such endpoint.');
    return document;
  });
}
