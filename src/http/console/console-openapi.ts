import { PROXY_METHODS, PROXY_PATHS } from './console-proxy.ts';

/**
 * The admin console's routes in the OpenAPI document (every served route is documented). They
 * are a browser's, not an API client's: HTML, redirects and a cookie-bound proxy; automation
 * calls `/admin/v1` with a Bearer token instead.
 */
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const redirect = (description: string) => ({ description, headers: { Location: { schema: { type: 'string' } } } });
const cookie = [{ consoleSession: [] }];
const tags = ['console'];

export const CONSOLE_SECURITY_SCHEME = {
  consoleSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'sei_console',
    description: 'The console session (`__Host-sei_console` behind an https issuer): HttpOnly, SameSite=Strict, set by /admin/callback.',
  },
} as const;

export function consolePaths(): Record<string, unknown> {
  const page = {
    get: {
      tags,
      summary: 'The admin console (a signed-in session), or a redirect to /admin/login',
      security: [...cookie, {}],
      responses: { '200': html('the page: loads the hashed script and stylesheet'), '302': redirect('to /admin/login') },
    },
  };
  const paths: Record<string, unknown> = {
    '/admin': page,
    '/admin/{page}': {
      get: {
        ...page.get,
        parameters: [
          {
            name: 'page',
            in: 'path',
            required: true,
            schema: { enum: ['orgs', 'users', 'clients', 'idps', 'sessions', 'events', 'keys'] },
          },
        ],
      },
    },
    '/admin/login': {
      get: {
        tags,
        summary: 'Start the console sign-in: the authorization-code flow with PKCE',
        responses: { '302': redirect('to /oauth/authorize') },
      },
    },
    '/admin/callback': {
      get: {
        tags,
        summary: 'The console client’s redirect URI: checks state and iss, exchanges the code, opens the session',
        parameters: ['code', 'state', 'iss', 'error', 'error_description'].map((name) => ({
          name,
          in: 'query',
          required: false,
          schema: { type: 'string' },
        })),
        responses: { '200': html('signed in; moves on to /admin'), '400': html('the sign-in failed; a link starts it again') },
      },
    },
    '/admin/logout': {
      post: {
        tags,
        summary: 'Sign out: revokes the console’s tokens (ending its session) and clears the cookie',
        security: cookie,
        parameters: [{ name: 'x-sei-console', in: 'header', required: true, schema: { const: '1' } }],
        responses: { '204': { description: 'signed out' }, '403': { description: 'without the console header' } },
      },
    },
    '/admin/session': {
      get: {
        tags,
        summary: 'Who is signed in to the console',
        security: cookie,
        responses: { '200': { description: '{user_id, email, org, role, expires_at}' }, '401': { description: 'not signed in' } },
      },
    },
    '/admin/assets/{name}': {
      get: {
        tags,
        summary: 'The console’s hashed script and stylesheet (immutable; brotli or gzip)',
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'the file' }, '404': { description: 'no such file' } },
      },
    },
  };
  for (const path of PROXY_PATHS) {
    const item: Record<string, unknown> = {};
    const parameters = [...path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    for (const method of PROXY_METHODS) {
      item[method.toLowerCase()] = {
        tags,
        summary: `The console’s proxy: ${method} /admin/v1/… with the session’s Bearer token`,
        security: cookie,
        parameters: [...parameters, { name: 'x-sei-console', in: 'header', required: true, schema: { const: '1' } }],
        responses: {
          default: { description: 'the admin API’s answer, as it is' },
          '401': { description: 'the console session has ended' },
          '403': { description: 'without the console header, or from another site' },
        },
      };
    }
    paths[path.replace(/:(\w+)/g, '{$1}')] = item;
  }
  return paths;
}
