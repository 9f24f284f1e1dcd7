import type { FastifyInstance } from 'fastify';

export interface MetadataDeps {
  issuer: string;
  grantTypes: readonly string[];
  /** present once the authorization endpoint is served */
  authorizationEndpoint?: boolean;
  /** contract §6: `scopes_supported`, the scopes registered clients may be granted (read per request, cached briefly) */
  scopesSupported?: () => Promise<string[]>;
}

/** OpenID Connect Core §5.4 and §2: the scopes every OpenID Provider here offers, whatever the clients register. */
export const OPENID_SCOPES: readonly string[] = ['openid', 'email'];

/** The claims an ID token or userinfo answer may carry (Discovery §3 claims_supported). */
const CLAIMS_SUPPORTED = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'sid', 'email', 'email_verified'];

/**
 * RFC 8414 authorization server metadata, which is also the OpenID Provider metadata (OpenID
 * Connect Discovery 1.0 §3; RFC 8414 §2 registers the same names): only what this server serves.
 */
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
    // Contract §11: "none" is a public client's (client_id only, PKCE required).
    token_endpoint_auth_methods_supported: [...authMethods, 'none'],
    grant_types_supported: [...deps.grantTypes],
    introspection_endpoint: `${base}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint: `${base}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: [...authMethods, 'none'],
    jwks_uri: `${base}/oauth/jwks`,
    ...(deps.authorizationEndpoint
      ? {
          // OpenID Connect Discovery 1.0 §3 (REQUIRED: subject_types_supported, id_token_signing_alg_values_supported).
          userinfo_endpoint: `${base}/oauth/userinfo`,
          end_session_endpoint: `${base}/oauth/logout`,
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          claims_supported: CLAIMS_SUPPORTED,
          claims_parameter_supported: false,
          request_parameter_supported: false,
          request_uri_parameter_supported: false,
        }
      : {}),
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
    if (!cached || now - cached.at > SCOPES_CACHE_MS) {
      const scopes = new Set([...(deps.authorizationEndpoint ? OPENID_SCOPES : []), ...(await deps.scopesSupported())]);
      cached = { at: now, document: { ...base, scopes_supported: [...scopes].sort() } };
    }
    return cached.document;
  };
  app.get('/.well-known/oauth-authorization-server', document);
  // OpenID Connect Discovery 1.0 §4: the same document, at the path every relying party looks up.
  if (deps.authorizationEndpoint) app.get('/.well-known/openid-configuration', document);
  // RFC 8414 §3.1: for an issuer with a path, the well-known segment goes between the host and
  // the path (https://host/.well-known/oauth-authorization-server/sei); clients such as Authlib
  // look only there.
  const path = new URL(deps.issuer).pathname.replace(/\/+$/, '');
  if (path !== '') {
    app.get(`/.well-known/oauth-authorization-server${path}`, document);
    // Discovery §4.1: for an issuer with a path, the path comes first.
    if (deps.authorizationEndpoint) app.get(`${path}/.well-known/openid-configuration`, document);
  }
}
