/**
 * The OpenAPI 3.1 description of every HTTP endpoint, served at GET /openapi.json. A test
 * (test/ops/openapi.test.ts) compares its paths and methods with the routes the app really
 * serves, so a route added without documentation (or documented but gone) fails CI.
 */

type Schema = Record<string, unknown>;

import { CONSOLE_SECURITY_SCHEME, consolePaths } from './console/console-openapi.ts';
import { ADMIN_COMPONENTS, adminPaths } from './openapi-admin.ts';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

const SEED_SAML_GRANT = 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer';
const RFC7522_SAML_GRANT = 'urn:ietf:params:oauth:grant-type:saml2-bearer';

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema, description: string): Schema => ({ description, content: { [JSON_TYPE]: { schema } } });
const oauthError = (description: string): Schema => json(ref('OAuthError'), description);
const text = (description: string): Schema => ({ type: 'string', description });

/** One grant's body: the client-authentication fields, endOtherSessions, then its own. */
function grantBody(grantType: string, title: string, required: string[], properties: Record<string, Schema>): Schema {
  return {
    title,
    allOf: [
      ref('ClientAuthenticationParameters'),
      {
        type: 'object',
        required: ['grant_type', ...required],
        properties: {
          grant_type: { const: grantType },
          endOtherSessions: ref('EndOtherSessions'),
          scope: ref('Scope'),
          resource: ref('Resource'),
          ...properties,
        },
      },
    ],
  };
}

const tokenRequestVariants: Record<string, Schema> = {
  AuthorizationCodeTokenRequest: grantBody('authorization_code', 'Authorization code (RFC 6749 §4.1.3, PKCE RFC 7636)', ['code'], {
    code: text('The authorization code from the redirect.'),
    redirect_uri: text('Required when the authorize request carried redirect_uri; must be identical.'),
    code_verifier: text('PKCE verifier; required when the authorize request carried code_challenge.'),
  }),
  RefreshTokenRequest: grantBody('refresh_token', 'Refresh token (RFC 6749 §6); rotates the refresh token', ['refresh_token'], {
    refresh_token: text('The current refresh token of the session.'),
  }),
  PasswordLoginRequest: grantBody(
    'client_credentials',
    "The seed's password login: grant_type=client_credentials with the user's email and password (not RFC 6749 §4.4)",
    ['email', 'password'],
    { email: { type: 'string', format: 'email', maxLength: 320 }, password: { type: 'string', format: 'password' } },
  ),
  ServiceTokenRequest: grantBody(
    'client_credentials',
    'RFC 6749 §4.4 for a client registered with --service: no email and no password; a token for the client itself (sub = client id, no session, no refresh token)',
    [],
    {},
  ),
  ResourceOwnerPasswordRequest: grantBody(
    'password',
    'Resource owner password (RFC 6749 §4.3), the standard form of the password login',
    ['username', 'password'],
    {
      username: { type: 'string', format: 'email', maxLength: 320, description: "The user's email." },
      password: { type: 'string', format: 'password' },
    },
  ),
  SeedSamlBearerRequest: {
    ...grantBody(SEED_SAML_GRANT, "The seed's SAML 2.0 bearer login: exactly one of SAMLResponse or SAMLAssertion", [], {
      SAMLResponse: text('Base64 of a signed SAML 2.0 Response.'),
      SAMLAssertion: text('Base64 of a signed SAML 2.0 Assertion.'),
    }),
    oneOf: [{ required: ['SAMLResponse'] }, { required: ['SAMLAssertion'] }],
  },
  Rfc7522SamlBearerRequest: grantBody(RFC7522_SAML_GRANT, 'SAML 2.0 bearer assertion grant (RFC 7522 §2.1)', ['assertion'], {
    assertion: text('Base64url of one signed SAML 2.0 Assertion (or a Response carrying it).'),
  }),
};

const tokenEndpointErrors: Schema = {
  '400': oauthError(
    'invalid_request (a missing, repeated or malformed parameter, or a JSON body), invalid_client, invalid_grant, unauthorized_client (also: a resource server asking for tokens), unsupported_grant_type, invalid_scope (a scope outside the client’s set, or wider than the grant on a refresh), invalid_target (resource is not a registered resource server’s audience, RFC 8707), or concurrent_session_limit (the user is at the session limit and endOtherSessions was not true).',
  ),
  '401': {
    ...oauthError('invalid_client after HTTP Basic client authentication failed.'),
    headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Basic realm=…' } },
  },
  '413': oauthError('The body is larger than 256 KiB.'),
  '415': oauthError('The body is neither application/x-www-form-urlencoded nor JSON (JSON is 400 invalid_request).'),
  '429': oauthError('slow_down: too many requests or failed logins; see Retry-After.'),
  '503': oauthError('temporarily_unavailable: the store did not answer, or the server is shutting down.'),
};

const clientAuthenticatedForm = (required: string[], properties: Record<string, Schema>): Schema => ({
  required: true,
  content: {
    [FORM]: {
      schema: { allOf: [ref('ClientAuthenticationParameters'), { type: 'object', required, properties }] },
    },
  },
});

const AUTHORIZE_QUERY = [
  { name: 'response_type', in: 'query', required: true, schema: { const: 'code' } },
  { name: 'client_id', in: 'query', required: true, schema: { type: 'string' } },
  {
    name: 'redirect_uri',
    in: 'query',
    required: false,
    schema: { type: 'string', format: 'uri' },
    description: 'One of the client’s registered redirect URLs (default: the first).',
  },
  { name: 'state', in: 'query', required: false, schema: { type: 'string' }, description: 'Returned unchanged on the redirect.' },
  {
    name: 'code_challenge',
    in: 'query',
    required: false,
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' },
    description: 'PKCE S256 challenge (RFC 7636).',
  },
  { name: 'code_challenge_method', in: 'query', required: false, schema: { const: 'S256' } },
  { name: 'response_mode', in: 'query', required: false, schema: { const: 'query' } },
  {
    name: 'scope',
    in: 'query',
    required: false,
    schema: { type: 'string' },
    description: 'Space-separated scopes (default: all the client’s); one outside its set redirects with error=invalid_scope.',
  },
  {
    name: 'nonce',
    in: 'query',
    required: false,
    schema: { type: 'string', maxLength: 512 },
    description: 'OpenID Connect: returned unchanged in the ID token.',
  },
  {
    name: 'prompt',
    in: 'query',
    required: false,
    schema: { type: 'string' },
    description:
      'OpenID Connect: none (never show a page: a code through the browser session, or error=login_required), login (ask again); consent and select_account are accepted.',
  },
  {
    name: 'max_age',
    in: 'query',
    required: false,
    schema: { type: 'integer', minimum: 0 },
    description: 'OpenID Connect: seconds since the last sign-in beyond which the login page is shown again.',
  },
];

const html = (description: string): Schema => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const redirect = (description: string): Schema => ({ description, headers: { Location: { schema: { type: 'string', format: 'uri' } } } });

export interface OpenApiOptions {
  issuer: string;
  version: string;
}

/** The document; plain JSON, so it is built once per app and sent as is. */
export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'sei-auth',
      version: options.version,
      summary: 'OAuth 2.0 authorization server for the SEI Platform token API.',
      description:
        'Every OAuth endpoint takes its parameters from the application/x-www-form-urlencoded body, the query string, or both; ' +
        'a parameter given twice is invalid_request (RFC 6749 §3.2). Clients authenticate with client_id and client_secret ' +
        'parameters or with HTTP Basic (RFC 6749 §2.3.1), never both. Every response carries Cache-Control: no-store and X-Request-Id.',
    },
    servers: [{ url: options.issuer }],
    tags: [{ name: 'oauth' }, { name: 'operations' }, { name: 'admin' }, { name: 'console' }],
    paths: {
      ...adminPaths(),
      ...consolePaths(),
      '/oauth/token': {
        post: {
          tags: ['oauth'],
          operationId: 'token',
          summary: 'Issue tokens: authorization code, refresh token, password login, SAML 2.0 bearer.',
          description: 'The parameters may also be sent in the query string (contract §3).',
          security: [{ clientBasic: [] }, {}],
          parameters: [{ $ref: '#/components/parameters/RequestId' }],
          requestBody: {
            required: true,
            content: {
              [FORM]: {
                schema: {
                  oneOf: Object.keys(tokenRequestVariants).map(ref),
                  discriminator: {
                    propertyName: 'grant_type',
                    mapping: {
                      authorization_code: '#/components/schemas/AuthorizationCodeTokenRequest',
                      refresh_token: '#/components/schemas/RefreshTokenRequest',
                      client_credentials: '#/components/schemas/PasswordLoginRequest',
                      password: '#/components/schemas/ResourceOwnerPasswordRequest',
                      [SEED_SAML_GRANT]: '#/components/schemas/SeedSamlBearerRequest',
                      [RFC7522_SAML_GRANT]: '#/components/schemas/Rfc7522SamlBearerRequest',
                    },
                  },
                },
              },
            },
          },
          responses: {
            '200': json(ref('TokenResponse'), 'Tokens issued; a new session, or the same session continued by a refresh.'),
            ...tokenEndpointErrors,
          },
        },
      },
      '/oauth/authorize': {
        get: {
          tags: ['oauth'],
          operationId: 'authorize',
          summary: 'Authorization endpoint (RFC 6749 §4.1.1, PKCE S256, OpenID Connect Core §3.1.2): the login page.',
          description:
            'With a live browser session (the sei_session cookie set by an earlier sign-in) and neither prompt=login nor an exceeded max_age, ' +
            'it redirects with a code at once. POST with the same parameters as a form is the same request (OpenID Connect Core §3.1.2.1).',
          parameters: AUTHORIZE_QUERY,
          responses: {
            '200': html('The login page; sets the CSRF cookie.'),
            '302': redirect(
              'To the redirect URI: a code through the browser session, or an error (error, error_description, state, iss; login_required for prompt=none).',
            ),
            '400': html('An error page: the client or the redirect URI could not be verified, so nothing is redirected.'),
          },
        },
        post: {
          tags: ['oauth'],
          operationId: 'authorizeSubmit',
          summary: 'The login form submit: checks the request again, the CSRF token and the password, then redirects with a code.',
          requestBody: {
            required: true,
            content: {
              [FORM]: {
                schema: {
                  type: 'object',
                  required: ['response_type', 'client_id', 'csrf_token', 'email', 'password'],
                  properties: {
                    ...Object.fromEntries(AUTHORIZE_QUERY.map((p) => [p.name, p.schema])),
                    csrf_token: text('Must match the CSRF cookie set by the GET.'),
                    email: { type: 'string', format: 'email' },
                    password: { type: 'string', format: 'password' },
                  },
                },
              },
            },
          },
          responses: {
            '303': redirect('To the redirect URI with code and state (RFC 6749 §4.1.2), or with an error.'),
            '400': html('The login page again: wrong email or password, or a field missing.'),
            '403': html('The login page again: the form was stale or forged (CSRF).'),
          },
        },
      },
      '/saml/metadata': {
        get: {
          tags: ['saml'],
          operationId: 'samlMetadata',
          summary: 'SAML 2.0 service-provider metadata (entityID = ISSUER, ACS ISSUER/saml/acs, HTTP-POST, NameID emailAddress).',
          responses: {
            '200': { description: 'The EntityDescriptor.', content: { 'application/samlmetadata+xml': { schema: { type: 'string' } } } },
          },
        },
      },
      '/saml/acs': {
        post: {
          tags: ['saml'],
          operationId: 'samlAcs',
          summary: "Assertion consumer service: the IdP's HTTP-POST answer to an SP-initiated browser sign-in.",
          requestBody: {
            required: true,
            content: {
              [FORM]: {
                schema: {
                  type: 'object',
                  required: ['SAMLResponse', 'RelayState'],
                  properties: {
                    SAMLResponse: text('Base64 of the signed samlp:Response answering our AuthnRequest.'),
                    RelayState: text('The opaque handle sent with the AuthnRequest, unchanged.'),
                  },
                },
              },
            },
          },
          responses: {
            '303': redirect("To the client's redirect URI with code, state and iss."),
            '400': html('A refusal page with a support code (the reason is in the security event log).'),
          },
        },
      },
      '/oauth/introspect': {
        post: {
          tags: ['oauth'],
          operationId: 'introspect',
          summary:
            'Token introspection (RFC 7662), client-authenticated: the client a token was issued to, or a resource server for the access tokens of its audience (contract §7); anyone else gets {"active":false}.',
          security: [{ clientBasic: [] }, {}],
          requestBody: clientAuthenticatedForm(['token'], {
            token: text('An access token (opaque or JWT) or a refresh token.'),
            token_type_hint: { enum: ['access_token', 'refresh_token'] },
          }),
          responses: {
            '200': json(ref('IntrospectionResponse'), 'active:true with the token’s facts, or only active:false.'),
            '400': oauthError('invalid_request or invalid_client.'),
            '401': oauthError('invalid_client after HTTP Basic authentication failed.'),
            '503': oauthError('temporarily_unavailable.'),
          },
        },
      },
      '/oauth/revoke': {
        post: {
          tags: ['oauth'],
          operationId: 'revoke',
          summary: 'Token revocation (RFC 7009), which is logout: the token’s whole session ends.',
          security: [{ clientBasic: [] }, {}],
          requestBody: clientAuthenticatedForm(['token'], {
            token: text('An access or refresh token.'),
            token_type_hint: { enum: ['access_token', 'refresh_token'] },
          }),
          responses: {
            '200': json({ type: 'object', maxProperties: 0 }, 'Revoked, or the token was unknown (RFC 7009 §2.2).'),
            '400': oauthError('invalid_request, invalid_client, or unauthorized_client (the token belongs to another client).'),
            '401': oauthError('invalid_client after HTTP Basic authentication failed.'),
            '503': oauthError('temporarily_unavailable.'),
          },
        },
      },
      '/oauth/jwks': {
        get: {
          tags: ['oauth'],
          operationId: 'jwks',
          summary: 'The public signing keys of JWTs (RFC 7517 JWK Set): pending, active and retiring keys.',
          description:
            'Cache-Control: public, max-age=JWKS_MAX_AGE. A rotated key is listed here before it signs (by default one max-age ahead), ' +
            'and a superseded key stays until every token it signed has expired. An ETag allows conditional requests (304).',
          responses: {
            '200': {
              description: 'The JWK Set.',
              headers: {
                'Cache-Control': { schema: { type: 'string' }, description: 'public, max-age=<JWKS_MAX_AGE>' },
                ETag: { schema: { type: 'string' } },
              },
              content: {
                'application/jwk-set+json': {
                  schema: {
                    type: 'object',
                    required: ['keys'],
                    properties: {
                      keys: {
                        type: 'array',
                        items: {
                          type: 'object',
                          required: ['kty', 'kid', 'alg', 'use'],
                          properties: {
                            kty: { enum: ['EC', 'RSA', 'OKP'] },
                            kid: { type: 'string' },
                            alg: { enum: ['ES256', 'RS256', 'EdDSA'] },
                            use: { const: 'sig' },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            '304': { description: 'Not modified (If-None-Match matched the ETag).' },
            '503': oauthError('temporarily_unavailable: the store did not answer.'),
          },
        },
      },
      '/oauth/userinfo': Object.fromEntries(
        (['get', 'post'] as const).map((method) => [
          method,
          {
            tags: ['oauth'],
            operationId: method === 'get' ? 'userinfo' : 'userinfoPost',
            summary: 'OpenID Connect Core §5.3: the claims of the signed-in user behind an access token granted openid.',
            description:
              'Authorization: Bearer <access token>' +
              (method === 'post' ? ', or an access_token form field (RFC 6750 §2.2), not both.' : '.') +
              ' email and email_verified only with the email scope. CORS for registered web origins.',
            security: [{ bearer: [] }],
            responses: {
              '200': json(
                {
                  type: 'object',
                  required: ['sub'],
                  properties: { sub: { type: 'string' }, email: { type: 'string', format: 'email' }, email_verified: { type: 'boolean' } },
                },
                'The claims.',
              ),
              '401': oauthError('No token (WWW-Authenticate: Bearer realm="sei-auth"), or invalid_token: unknown, expired or revoked.'),
              '403': oauthError('insufficient_scope: the token was not granted openid.'),
            },
          },
        ]),
      ),
      '/oauth/logout': Object.fromEntries(
        (['get', 'post'] as const).map((method) => [
          method,
          {
            tags: ['oauth'],
            operationId: method === 'get' ? 'logout' : 'logoutPost',
            summary: 'OpenID Connect RP-Initiated Logout 1.0: ends the browser session and every session it signed in.',
            description:
              'Parameters (query for GET, form for POST): id_token_hint, client_id, post_logout_redirect_uri (registered with ' +
              '--post-logout-redirect-url), state. Without a valid id_token_hint the user is asked to confirm first.',
            responses: {
              '200': html('The confirmation page, or the signed-out page when no post_logout_redirect_uri was given.'),
              '302': redirect('To post_logout_redirect_uri with state (303 after a POST).'),
              '400': html('An error page: a bad id_token_hint, an unregistered post_logout_redirect_uri, a client_id that does not match.'),
            },
          },
        ]),
      ),
      '/.well-known/openid-configuration': {
        get: {
          tags: ['oauth'],
          operationId: 'openidConfiguration',
          summary: 'OpenID Provider metadata (OpenID Connect Discovery 1.0); the same document as the RFC 8414 one.',
          responses: {
            '200': json(
              {
                type: 'object',
                required: [
                  'issuer',
                  'authorization_endpoint',
                  'token_endpoint',
                  'jwks_uri',
                  'response_types_supported',
                  'subject_types_supported',
                  'id_token_signing_alg_values_supported',
                ],
              },
              'The metadata document.',
            ),
          },
        },
      },
      '/.well-known/oauth-authorization-server': {
        get: {
          tags: ['oauth'],
          operationId: 'metadata',
          summary: 'Authorization server metadata (RFC 8414).',
          responses: {
            '200': json({ type: 'object', required: ['issuer', 'token_endpoint', 'grant_types_supported'] }, 'The metadata document.'),
          },
        },
      },
      '/healthz': {
        get: {
          tags: ['operations'],
          operationId: 'health',
          summary: 'Liveness: the process answers. Never touches the store.',
          responses: {
            '200': json({ type: 'object', properties: { status: { const: 'ok' } } }, 'Alive.'),
            '503': { description: 'The server is shutting down.' },
          },
        },
      },
      '/readyz': {
        get: {
          tags: ['operations'],
          operationId: 'ready',
          summary: 'Readiness: the store answers a query and its schema is fully migrated.',
          responses: {
            '200': json({ type: 'object', properties: { status: { const: 'ready' } } }, 'Ready for traffic.'),
            '503': json(
              { type: 'object', properties: { status: { const: 'unavailable' } } },
              'The store did not answer, or the server is shutting down.',
            ),
          },
        },
      },
      '/metrics': {
        get: {
          tags: ['operations'],
          operationId: 'metrics',
          summary: 'Prometheus metrics (text exposition format 0.0.4).',
          description:
            'Needs the METRICS_TOKEN bearer token; without METRICS_TOKEN set on the server it always answers 401. ' +
            'METRICS_PORT serves the same text without a token on 127.0.0.1 only.',
          security: [{ metricsBearer: [] }],
          responses: {
            '200': { description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
            '401': {
              ...json(
                ref('OAuthError'),
                'No valid METRICS_TOKEN bearer token, or METRICS_TOKEN is not set (the body says how to enable metrics).',
              ),
              headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer realm="metrics"' } },
            },
          },
        },
      },
      '/openapi.json': {
        get: {
          tags: ['operations'],
          operationId: 'openapi',
          summary: 'This document.',
          responses: { '200': json({ type: 'object' }, 'The OpenAPI 3.1 document.') },
        },
      },
    },
    components: {
      securitySchemes: {
        ...ADMIN_COMPONENTS.securitySchemes,
        ...CONSOLE_SECURITY_SCHEME,
        clientBasic: {
          type: 'http',
          scheme: 'basic',
          description: 'client_id and client_secret, each form-encoded (RFC 6749 Appendix B).',
        },
        metricsBearer: { type: 'http', scheme: 'bearer', description: 'The METRICS_TOKEN value.' },
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token this server issued (RFC 6750).' },
      },
      parameters: {
        RequestId: {
          name: 'X-Request-Id',
          in: 'header',
          required: false,
          schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
          description: 'Accepted on every endpoint and echoed; a new one is made when absent or malformed.',
        },
      },
      schemas: {
        ClientAuthenticationParameters: {
          type: 'object',
          properties: {
            client_id: text('The client identifier (leave out when using HTTP Basic).'),
            client_secret: { type: 'string', format: 'password', description: 'The client secret (leave out when using HTTP Basic).' },
          },
        },
        EndOtherSessions: {
          enum: ['true', 'false'],
          default: 'false',
          description: "End the user's other sessions before this one starts (seed).",
        },
        ...tokenRequestVariants,
        TokenResponse: {
          type: 'object',
          required: ['access_token', 'token_type', 'expires_in'],
          properties: {
            access_token: { type: 'string' },
            token_type: { enum: ['BearerToken', 'Bearer'] },
            expires_in: { type: 'integer', minimum: 0 },
            refresh_token: {
              type: 'string',
              description: 'Authorization-code flow (and its refreshes) of a client with refresh tokens only.',
            },
            refresh_token_expires_in: { type: 'integer', minimum: 0 },
            redirect_url: {
              type: 'string',
              description: 'The client’s redirect URL (contract §3); absent for a client registered without one.',
            },
            email: { type: 'string', format: 'email', description: 'The user’s email; absent for a service client’s own token.' },
            scope: { type: 'string', description: 'The granted scopes, space-separated; present whenever not empty.' },
            id_token: {
              type: 'string',
              description: 'OpenID Connect: an RS256 ID token, when openid was granted in the code flow (and on its refreshes).',
            },
          },
        },
        Scope: { type: 'string', description: 'Space-separated scopes (RFC 6749 §3.3) within the client’s set; default: all of them.' },
        Resource: {
          type: 'string',
          format: 'uri',
          description: 'RFC 8707: the audience of a registered resource server; the token’s aud (default DEFAULT_AUDIENCE).',
        },
        IntrospectionResponse: {
          type: 'object',
          required: ['active'],
          properties: {
            active: { type: 'boolean' },
            client_id: { type: 'string' },
            username: { type: 'string' },
            email: { type: 'string' },
            sub: { type: 'string' },
            sid: { type: 'string', description: 'The session id (user tokens).' },
            scope: { type: 'string', description: 'The token’s scopes, space-separated (absent when none).' },
            aud: { type: 'string', description: 'The audience the token was issued for.' },
            token_type: { type: 'string' },
            exp: { type: 'integer' },
            iat: { type: 'integer' },
            iss: { type: 'string' },
          },
        },
        ...ADMIN_COMPONENTS.schemas,
        OAuthError: {
          type: 'object',
          required: ['error', 'error_description'],
          properties: { error: { type: 'string' }, error_description: { type: 'string' } },
        },
      },
    },
  };
}
