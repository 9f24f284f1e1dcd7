import type { Client } from '../store/store.ts';

/** Server-wide token lifetimes in seconds (ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL). */
export interface TokenLifetimeSettings {
  accessTokenTtl: number;
  refreshTokenTtl: number;
}

/** A client's own TTLs override the server's; results in milliseconds. */
export class TokenLifetimes {
  private readonly settings: TokenLifetimeSettings;

  constructor(settings: TokenLifetimeSettings) {
    this.settings = settings;
  }

  accessMs(client: Client): number {
    return (client.accessTtl ?? this.settings.accessTokenTtl) * 1000;
  }

  refreshMs(client: Client): number {
    return (client.refreshTtl ?? this.settings.refreshTokenTtl) * 1000;
  }
}
