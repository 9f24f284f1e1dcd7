import type { Clock } from '../clock.ts';
import type { JwtSigner } from '../keys/jwt-signer.ts';
import type { Client, Store } from '../store/store.ts';
import { findPresentedToken, isActive, type PresentedToken } from './token-lookup.ts';

/** RFC 7662 §2.2, with contract §7's fields. */
export interface IntrospectionAnswer {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  email?: string;
  sub?: string;
  sid?: string;
  aud?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  iss?: string;
}

const INACTIVE: IntrospectionAnswer = Object.freeze({ active: false });

/**
 * Token introspection (RFC 7662) and who may use it (contract §7): the client a token was issued
 * to, and a resource server for the access tokens of its own audience. Anyone else learns nothing,
 * not even that the token exists: `{"active":false}`, as for an unknown token (RFC 7662 §2.2 lets
 * the server answer so "to prevent … information about the token from leaking").
 */
export class TokenIntrospection {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly signer: JwtSigner;
  private readonly issuer: string;
  private readonly defaultAudience: string;

  constructor(deps: { store: Store; clock: Clock; signer: JwtSigner; issuer: string; defaultAudience: string }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.signer = deps.signer;
    this.issuer = deps.issuer;
    this.defaultAudience = deps.defaultAudience;
  }

  async introspect(caller: Client, token: string, hint: string | undefined): Promise<IntrospectionAnswer> {
    const found = await findPresentedToken(this.store, this.signer, token, hint);
    // RFC 7662 §2.2: for an inactive or unknown token, "active": false and nothing more.
    if (!found || !isActive(found, this.clock.now())) return INACTIVE;
    const owner = found.kind === 'service_token' ? found.record.clientId : found.record.session.clientId;
    // Legacy rows (before audiences) were issued for the default audience.
    const audience = found.record.audience ?? this.defaultAudience;
    if (!this.mayRead(caller, found, owner, audience)) return INACTIVE;

    const { record } = found;
    // The access token's type is its client's; when that is the caller, the row read to authenticate it is reused.
    const issuedTo = found.kind === 'refresh_token' ? undefined : owner === caller.id ? caller : await this.store.clients.find(owner);
    const tokenType = found.kind === 'refresh_token' ? 'refresh_token' : (issuedTo?.tokenType ?? 'Bearer');
    const common = {
      ...(record.scope !== '' ? { scope: record.scope } : {}),
      client_id: owner,
      aud: audience,
      token_type: tokenType,
      exp: Math.floor(record.expiresAt / 1000),
      iat: Math.floor(record.createdAt / 1000),
      iss: this.issuer,
    };
    if (found.kind === 'service_token') return { active: true, ...common, sub: owner };
    return {
      active: true,
      ...common,
      username: found.record.email,
      email: found.record.email,
      sub: found.record.session.userId,
      sid: found.record.sessionId,
    };
  }

  private mayRead(caller: Client, found: PresentedToken, owner: string, audience: string): boolean {
    if (caller.kind === 'resource_server') {
      // A resource server checks the access tokens presented to it; refresh tokens are never meant for it.
      return found.kind !== 'refresh_token' && caller.audience === audience;
    }
    return owner === caller.id;
  }
}
