import { isAudienceUri } from '../common/audience.ts';
import { OAuthError } from '../common/oauth-error.ts';
import type { StoreOps } from '../store/store.ts';

/**
 * The audience a token request names with RFC 8707's `resource`, checked: contract §6 accepts
 * only the audience of a registered (and enabled) resource server. Undefined when not given: the
 * token then gets the default audience (or, on a refresh, its session's).
 */
export async function requestedAudience(store: StoreOps, resource: string | undefined): Promise<string | undefined> {
  if (resource === undefined) return undefined;
  // RFC 8707 §2: the value "MUST be an absolute URI" and "MUST NOT include a fragment component".
  if (!isAudienceUri(resource)) throw new OAuthError('invalid_target', 'resource must be an absolute URI without a fragment (RFC 8707).');
  const server = await store.clients.findByAudience(resource);
  if (!server || server.disabled) throw new OAuthError('invalid_target', 'resource is not the audience of a registered resource server.');
  return resource;
}
