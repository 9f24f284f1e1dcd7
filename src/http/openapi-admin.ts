/** The admin API's part of /openapi.json (contract §9): paths, parameters and problem responses. */
type Schema = Record<string, unknown>;

const PROBLEM = 'application/problem+json';
const problem = (description: string): Schema => ({
  description,
  content: { [PROBLEM]: { schema: { $ref: '#/components/schemas/Problem' } } },
});
const body = (description: string): Schema => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const security = [{ adminBearer: [] }];
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const ifMatch = {
  name: 'If-Match',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description: 'the ETag of a GET; 412 when the row changed since',
};
const common = {
  '400': problem('Bad input: malformed JSON, an unknown field or query parameter, an invalid value'),
  '401': problem('No or an invalid Bearer token (WWW-Authenticate: Bearer)'),
  '403': problem('The token lacks the scope admin, or its user the role needed'),
  '404': problem('No such row, or (for an org-admin) a row outside its organization'),
};
const page = (name: string): Schema => ({
  description: `A page of ${name}, newest first`,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['items', 'next_cursor'],
        properties: { items: { type: 'array', items: { type: 'object' } }, next_cursor: { type: ['string', 'null'] } },
      },
    },
  },
});

const FILTERS: Record<string, string[]> = {
  orgs: [],
  users: ['email', 'org'],
  clients: [],
  idps: ['org'],
  sessions: ['user', 'active'],
  events: ['type', 'user', 'client', 'ip', 'since'],
  keys: [],
};

export function adminPaths(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [name, filters] of Object.entries(FILTERS)) {
    const query = ['limit', 'cursor', ...filters].map((q) => ({
      name: q,
      in: 'query',
      required: false,
      schema: { type: q === 'limit' ? 'integer' : 'string' },
    }));
    paths[`/admin/v1/${name}`] = {
      get: { tags: ['admin'], summary: `List ${name}`, security, parameters: query, responses: { '200': page(name), ...common } },
      post: {
        tags: ['admin'],
        summary: `Create (${name})`,
        security,
        requestBody: body('the fields of the CLI create command, by their --json names'),
        responses: {
          '201': body('the created row (a client: with its secret, shown only here)'),
          ...common,
          '405': problem('not creatable'),
          '409': problem('conflict'),
        },
      },
    };
    paths[`/admin/v1/${name}/{id}`] = {
      get: {
        tags: ['admin'],
        summary: `Get one of ${name} (with ETag)`,
        security,
        parameters: [id],
        responses: { '200': body('the row'), ...common },
      },
      patch: {
        tags: ['admin'],
        summary: `Update one of ${name}`,
        security,
        parameters: [id, ifMatch],
        requestBody: body('the fields to change'),
        responses: {
          '200': body('the row after the change'),
          ...common,
          '405': problem('not changeable'),
          '409': problem('conflict'),
          '412': problem('If-Match does not match'),
        },
      },
      delete: {
        tags: ['admin'],
        summary: `Delete one of ${name} (orgs: ?cascade=true; users: erasure; sessions: end)`,
        security,
        parameters: [
          id,
          ifMatch,
          ...(name === 'orgs' ? [{ name: 'cascade', in: 'query', required: false, schema: { type: 'boolean' } }] : []),
        ],
        responses: {
          '204': { description: 'done' },
          ...common,
          '405': problem('not deletable'),
          '409': problem('refused'),
          '412': problem('If-Match does not match'),
        },
      },
    };
  }
  paths['/admin/v1/clients/{id}/secret'] = {
    post: {
      tags: ['admin'],
      summary: 'Rotate the client secret; {grace_seconds?}: the old one keeps working that long',
      security,
      parameters: [id],
      requestBody: body('{"grace_seconds"}'),
      responses: { '200': body('the client with client_secret (only here)'), ...common },
    },
  };
  paths['/admin/v1/users/{id}/password'] = {
    put: {
      tags: ['admin'],
      summary: 'Set the password; ends the sessions unless keep_sessions',
      security,
      parameters: [id],
      requestBody: body('{"password","keep_sessions"}'),
      responses: { '200': body('{"id","ended_sessions"}'), ...common },
    },
  };
  paths['/admin/v1/users/{id}/sessions'] = {
    delete: {
      tags: ['admin'],
      summary: 'End every session of the user',
      security,
      parameters: [id],
      responses: { '200': body('{"id","ended_sessions"}'), ...common },
    },
  };
  return paths;
}

export const ADMIN_COMPONENTS = {
  securitySchemes: { adminBearer: { type: 'http', scheme: 'bearer', description: 'an access token with the scope admin (contract §9)' } },
  schemas: {
    Problem: {
      type: 'object',
      description: 'RFC 9457 problem details',
      required: ['type', 'title', 'status', 'detail'],
      properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } },
    },
  },
};
