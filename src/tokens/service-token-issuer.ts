import type { Clock } from '../clock.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import type { Client, Store } from '../store/store.ts';
import type { AccessTokenMinter } from './access-token-minter.ts';
import type { IssuedTokens } from './issued-tokens.ts';
import type { TokenLifetimes } from './token-lifetimes.ts';

/**
 * RFC 6749 §4.4 tokens of a service client for itself (contract §8): `sub` is the client, there
 * is no user, no session (so no session limit) and no refresh token (§4.4.3: "A refresh token
 * SHOULD NOT be included"). The token and its event are written in one transaction.
 */
export class ServiceTokenIssuer {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly lifetimes: TokenLifetimes;
  private readonly minter: AccessTokenMinter;
  private readonly defaultAudience: string;

  constructor(deps: { store: Store; clock: Clock; lifetimes: TokenLifetimes; minter: AccessTokenMinter; defaultAudience: string }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.lifetimes = deps.lifetimes;
    this.minter = deps.minter;
    this.defaultAudience = deps.defaultAudience;
  }

  async issue(client: Client, target: { scope: string; audience: string | undefined }, context: EventContext): Promise<IssuedTokens> {
    const now = this.clock.now();
    const expiresAt = now + this.lifetimes.accessMs(client);
    const audience = target.audience ?? this.defaultAudience;
    const minted = this.minter.mint(client, { subject: client.id, scope: target.scope, audience, expiresAt, now });
    await this.store.transaction(async (tx) => {
      await tx.tokens.createService({
        hash: minted.hash,
        clientId: client.id,
        scope: target.scope,
        audience,
        expiresAt,
        revokedAt: null,
        createdAt: now,
      });
      await tx.events.create(securityEvent('service_token_issued', now, { ...context, clientId: client.id }));
    });
    return {
      accessToken: await minted.secret,
      tokenType: client.tokenType,
      accessExpiresAt: expiresAt,
      scope: target.scope,
      issuedAt: now,
    };
  }
}
