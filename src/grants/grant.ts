import { OAuthError } from '../common/oauth-error.ts';
import type { RequestParams } from '../common/request-params.ts';
import type { EventContext } from '../events/security-event.ts';
import type { LoginDecision } from '../sessions/login-decision.ts';
import type { Client } from '../store/store.ts';
import type { IssuedTokens } from '../tokens/issued-tokens.ts';

/** What every grant receives: the parsed request and the authenticated client. */
export interface GrantRequest {
  params: RequestParams;
  client: Client;
  /** the seed's endOtherSessions, already validated */
  endOtherSessions: boolean;
  /** RFC 8707 `resource`, already checked to be a registered resource server's audience; undefined when not given */
  audience: string | undefined;
  context: EventContext;
}

/**
 * What a grant decided: a login for the issuer (sessions/login-issuer.ts) to carry out, or —
 * for a grant that continues an existing session, like refresh — the tokens it already issued.
 */
export type GrantDecision = { kind: 'login'; login: LoginDecision } | { kind: 'issued'; tokens: IssuedTokens };

/** One grant type (or several names for one grant). It validates and decides; it never writes a login itself. */
export interface Grant {
  readonly grantTypes: readonly string[];
  decide(request: GrantRequest): Promise<GrantDecision>;
}

/** Contract §11: what a public client may do: the browser's code flow and its refreshes. */
const PUBLIC_CLIENT_GRANTS: ReadonlySet<string> = new Set(['authorization_code', 'refresh_token']);

/** Contract §7: a resource server only checks tokens; it "cannot log anyone in", whatever the grant. */
export function checkMayRequestTokens(client: Client, grantType: string): void {
  if (client.kind === 'resource_server') {
    throw new OAuthError('unauthorized_client', 'A resource server cannot obtain tokens; it may only introspect them.');
  }
  if (client.public && !PUBLIC_CLIENT_GRANTS.has(grantType)) {
    throw new OAuthError('unauthorized_client', 'A public client may only use the authorization_code and refresh_token grants.');
  }
}

/** The token endpoint finds a grant by a Map lookup, never by asking each grant in turn. */
export function grantRegistry(grants: readonly Grant[]): ReadonlyMap<string, Grant> {
  const map = new Map<string, Grant>();
  for (const grant of grants) {
    for (const type of grant.grantTypes) {
      if (map.has(type)) throw new Error(`grant type ${type} registered twice`);
      map.set(type, grant);
    }
  }
  return map;
}
