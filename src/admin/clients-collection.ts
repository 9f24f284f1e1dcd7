import type { ClientChange, ClientService } from '../clients/client-service.ts';
import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import { requireFullAdmin } from './admin-actor.ts';
import { type Collection, checkQuery } from './collection.ts';
import { JsonInput } from './json-input.ts';
import { pageOf } from './page-cursor.ts';
import { clientView } from './views.ts';

const CHANGEABLE = [
  'name',
  'redirect_urls',
  'refresh_tokens',
  'access_ttl',
  'refresh_ttl',
  'token_type',
  'refresh_grace',
  'query_secrets',
  'require_pkce',
  'scope',
  'access_token_format',
  'web_origins',
  'post_logout_redirect_urls',
  'disabled',
] as const;

/** The fields `client create` and `client update` share, read from a JSON body. */
function change(input: JsonInput): ClientChange {
  const scope = input.optString('scope');
  const requirePkce = input.optBoolean('require_pkce');
  return {
    name: input.optString('name'),
    redirectUrls: input.optStringArray('redirect_urls'),
    refreshTokens: input.optBoolean('refresh_tokens'),
    accessTtl: input.optNullableInteger('access_ttl'),
    refreshTtl: input.optNullableInteger('refresh_ttl'),
    tokenType: input.optString('token_type'),
    refreshGrace: input.optInteger('refresh_grace'),
    querySecrets: input.optBoolean('query_secrets'),
    allowNoPkce: requirePkce === undefined ? undefined : !requirePkce,
    scopes: scope === undefined ? undefined : scope.trim() === '' ? [] : [scope],
    accessTokenFormat: input.optString('access_token_format'),
    webOrigins: input.optStringArray('web_origins'),
    postLogoutRedirectUrls: input.optStringArray('post_logout_redirect_urls'),
    disabled: input.optBoolean('disabled'),
  };
}

/** `/admin/v1/clients`: full admins only (clients belong to no organization). */
export function clientsCollection(clients: ClientService, clock: Clock): Collection {
  return {
    async list(call, query) {
      requireFullAdmin(call.actor);
      checkQuery(query, ['limit', 'cursor']);
      return pageOf(
        query,
        (q) => clients.clientPage(q),
        (c) => ({ at: c.createdAt, id: c.id }),
        (c) => clientView(c, clock.now()),
      );
    },
    async get(call, id) {
      requireFullAdmin(call.actor);
      const client = await clients.clientById(id);
      return { body: clientView(client, clock.now()), version: client.version ?? 1 };
    },
    async create(call, body) {
      requireFullAdmin(call.actor);
      const input = new JsonInput(body, [...CHANGEABLE, 'kind', 'audience', 'public']);
      const kind = input.optString('kind') ?? 'app';
      if (kind !== 'app' && kind !== 'service' && kind !== 'resource_server')
        throw new AdminError('kind must be app, service or resource_server');
      if (input.has('disabled')) throw new AdminError('a client is created enabled; disable it with PATCH');
      const c = change(input);
      const created = await clients.createClient(
        {
          name: input.string('name'),
          redirectUrls: c.redirectUrls ?? [],
          refreshTokens: c.refreshTokens,
          accessTtl: c.accessTtl ?? undefined,
          refreshTtl: c.refreshTtl ?? undefined,
          tokenType: c.tokenType,
          refreshGrace: c.refreshGrace,
          querySecrets: c.querySecrets,
          allowNoPkce: c.allowNoPkce,
          scopes: c.scopes,
          accessTokenFormat: c.accessTokenFormat,
          service: kind === 'service',
          resourceServer: kind === 'resource_server',
          audience: input.optString('audience'),
          public: input.optBoolean('public') ?? false,
          webOrigins: c.webOrigins,
          postLogoutRedirectUrls: c.postLogoutRedirectUrls,
        },
        call.ctx,
      );
      // The secret is in this answer only; it is stored as a hash. A public client has none.
      const view = clientView(await clients.clientById(created.client_id), clock.now());
      return created.client_secret === undefined ? view : { ...view, client_secret: created.client_secret };
    },
    async update(call, id, body, ifVersion) {
      requireFullAdmin(call.actor);
      const updated = await clients.updateClient(id, change(new JsonInput(body, CHANGEABLE)), call.ctx, ifVersion);
      return { body: clientView(updated, clock.now()), version: updated.version ?? 1 };
    },
    async remove(call, id, query, ifVersion) {
      requireFullAdmin(call.actor);
      checkQuery(query, []);
      await clients.deleteClient(id, call.ctx, ifVersion);
    },
  };
}
