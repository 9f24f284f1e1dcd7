import type { EventContext } from '../domain/event-log.ts';
import type { TokenResponse } from '../domain/token-response.ts';
import type { RequestParams } from '../http/params.ts';
import type { Client } from '../store/store.ts';

/** What every grant handler receives: the parsed request, the authenticated client. */
export interface GrantRequest {
  params: RequestParams;
  client: Client;
  /** the seed's endOtherSessions, already validated */
  endOtherSessions: boolean;
  context: EventContext;
}

/** One grant type (or several names for one grant): it decides who logs in, then asks TokenService. */
export interface Grant {
  readonly grantTypes: readonly string[];
  handle(request: GrantRequest): Promise<TokenResponse>;
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
