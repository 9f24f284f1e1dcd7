import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import type { JwtSigner } from '../keys/jwt-signer.ts';
import type { Store } from '../store/store.ts';
import { findPresentedToken, isActive } from '../tokens/token-lookup.ts';
import type { AdminActor } from './admin-actor.ts';

/** Contract §9: the scope a token needs for the admin API. */
export const ADMIN_SCOPE = 'admin';

/** RFC 6750 §2.1: `Authorization: Bearer <b64token>`. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Who presents a Bearer token to the admin API. Everything is read from the store on every
 * request — the token row, its session, the user's role — so a session ended, a token revoked
 * or a role removed takes effect on the very next request (no cache to outlive it).
 */
export class AdminAuthenticator {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly signer: JwtSigner;

  constructor(deps: { store: Store; clock: Clock; signer: JwtSigner }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.signer = deps.signer;
  }

  async authenticate(authorization: string | undefined): Promise<AdminActor> {
    // RFC 6750 §3.1: no credentials → 401 without an error code; a bad token → invalid_token.
    if (authorization === undefined || authorization === '') throw new AdminError('a Bearer token is required', 'unauthorized');
    const match = BEARER.exec(authorization);
    if (!match || match[1]!.length > 8192) throw new AdminError('the Bearer token is malformed, expired or revoked', 'unauthorized');
    const found = await findPresentedToken(this.store, this.signer, match[1]!, 'access_token');
    if (!found || found.kind === 'refresh_token' || !isActive(found, this.clock.now())) {
      throw new AdminError('the Bearer token is malformed, expired or revoked', 'unauthorized');
    }
    // RFC 6750 §3.1: a valid token without the needed scope → 403 insufficient_scope.
    if (!found.record.scope.split(' ').includes(ADMIN_SCOPE)) {
      throw new AdminError(`the token lacks the scope ${ADMIN_SCOPE}`, 'forbidden');
    }
    if (found.kind === 'service_token') {
      // Contract §9: a service client whose token has the scope admin is a full admin.
      const client = await this.store.clients.find(found.record.clientId);
      if (!client || client.disabled) throw new AdminError('the Bearer token is malformed, expired or revoked', 'unauthorized');
      return { role: 'admin', label: `client:${client.id}` };
    }
    const user = await this.store.users.find(found.record.session.userId);
    if (!user || user.disabled) throw new AdminError('the Bearer token is malformed, expired or revoked', 'unauthorized');
    const label = `user:${user.id}`;
    if (user.role === 'admin') return { role: 'admin', label };
    if (user.role === 'org-admin') return { role: 'org-admin', label, orgId: user.orgId };
    throw new AdminError('the token’s user has no admin role', 'forbidden');
  }
}
