import type { FastifyInstance } from 'fastify';

export interface MetadataDeps {
  issuer: string;
  grantTypes: readonly string[];
  /** present once the authorization endpoint is served */
  authorizationEndpoint?: boolean;
  /** contract §6: `scopes_supported`, the scopes registered clients may be granted (read per request, cached briefly) */
  scopesSupported?: () => Promise<string[]>;
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
    jwks_uri: `${base}/oauth/jwks`,
  };
}

/** How long the scope list is reused: metadata is fetched rarely, but may be fetched by every client at once. */
const SCOPES_CACHE_MS = 5_000;

export function registerMetadataRoute(app: FastifyInstance, deps: MetadataDeps): void {
  const base = authorizationServerMetadata(deps);
  let cached: { at: number; document: Record<string, unknown> } | undefined;
  const document = async (): Promise<Record<string, unknown>> => {
    if (!deps.scopesSupported) return base;
    const now = performance.now();
    if (!cached || now - cached.at > SCOPES_CACHE_MS)
      cached = { at: now, document: { ...base, scopes_supported: await deps.scopesSupported() } };
    return cached.document;
  };
  app.get('/.well-known/oauth-authorization-server', document);
  // RFC 8414 §3.1: for an issuer with a path, the well-known segment goes between the host and
  // the path (https://host/.well-known/oauth-authorization-server/sei); clients such as Authlib
  // look only there.
  const path = new URL(deps.issuer).pathname.replace(/\/+$/, '');
  if (path !== '') app.get(`/.well-known/oauth-authorization-server${path}`, document);
}
