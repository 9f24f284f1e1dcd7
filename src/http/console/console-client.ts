import type { Clock } from '../../clock.ts';
import { hashSecret, newSecret } from '../../crypto/secrets.ts';
import type { Client, Store } from '../../store/store.ts';

/**
 * The admin console is a client of this server (contract §9: it signs in through the
 * authorization-code flow with PKCE), registered on first start under a fixed id, so every
 * instance finds the same row and two instances starting at once create it once (the loser of
 * the insert reads the winner's row).
 *
 * Its secret is random and thrown away: the console exchanges its codes in-process, through the
 * same grant and login issuer as the token endpoint, so nobody ever needs it and nobody can use
 * this client at /oauth/token.
 */
export const CONSOLE_CLIENT_ID = 'cl_admin_console';
export const CONSOLE_SCOPE = 'admin';
/** Short access tokens: the console refreshes them server-side; a session lasts one working day. */
const ACCESS_TTL_SECONDS = 600;
const REFRESH_TTL_SECONDS = 8 * 3600;

export function consoleCallbackUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/admin/callback`;
}

export async function ensureConsoleClient(deps: { store: Store; clock: Clock; issuer: string }): Promise<Client> {
  const callback = consoleCallbackUrl(deps.issuer);
  const existing = await deps.store.clients.find(CONSOLE_CLIENT_ID);
  if (existing) {
    // ISSUER changed since the client was registered: the console must still reach its callback.
    if (existing.redirectUrls.length === 1 && existing.redirectUrls[0] === callback) return existing;
    await deps.store.clients.update(CONSOLE_CLIENT_ID, { redirectUrls: [callback] });
    return { ...existing, redirectUrls: [callback] };
  }
  const client: Client = {
    id: CONSOLE_CLIENT_ID,
    name: 'sei-auth admin console',
    secretHash: hashSecret(newSecret('client_secret')),
    redirectUrls: [callback],
    refreshTokens: true,
    accessTtl: ACCESS_TTL_SECONDS,
    refreshTtl: REFRESH_TTL_SECONDS,
    tokenType: 'Bearer',
    refreshGrace: 0,
    querySecrets: false,
    requirePkce: true,
    public: false,
    webOrigins: [],
    postLogoutRedirectUrls: [],
    scopes: [CONSOLE_SCOPE],
    accessTokenFormat: 'opaque',
    kind: 'app',
    audience: null,
    disabled: false,
    createdAt: deps.clock.now(),
  };
  try {
    await deps.store.clients.create(client);
    return client;
  } catch (error) {
    // Another instance created it between our read and our insert.
    const raced = await deps.store.clients.find(CONSOLE_CLIENT_ID);
    if (raced) return raced;
    throw error;
  }
}
