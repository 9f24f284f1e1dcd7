import { timingSafeEqual } from 'node:crypto';
import { OAuthError } from '../common/oauth-error.ts';
import type { RequestParams } from '../common/request-params.ts';
import { hashSecret } from '../crypto/secrets.ts';
import type { Client, StoreOps } from '../store/store.ts';

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="sei-auth", charset="UTF-8"' };
// Compared against when the client id is unknown, so both failures cost the same.
const DECOY_SECRET_HASH = hashSecret('decoy-secret-for-unknown-clients');

export interface PresentedCredentials {
  clientId: string;
  /** undefined for `none`: a public client names itself only (contract §11) */
  clientSecret: string | undefined;
  method: 'client_secret_basic' | 'client_secret_post' | 'none';
  secretInQuery: boolean;
}

/**
 * Reads the client's credentials: HTTP Basic (RFC 6749 §2.3.1) or the client_id and
 * client_secret parameters — never both — or, for a public client, client_id alone (RFC 6749
 * §2.1, OpenID Connect Core §9 "none"; whether the client is public is checked when authenticating).
 */
export function presentedCredentials(params: RequestParams, authorization: string | undefined): PresentedCredentials {
  const basic = parseBasic(authorization);
  const paramSecret = params.get('client_secret');
  const paramId = params.get('client_id');
  if (basic) {
    // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
    if (paramSecret !== undefined) {
      throw new OAuthError('invalid_request', 'Use one client authentication method: HTTP Basic or client_secret, not both.');
    }
    if (paramId !== undefined && paramId !== basic.clientId) {
      throw new OAuthError('invalid_request', 'client_id does not match the HTTP Basic credentials.');
    }
    return { ...basic, method: 'client_secret_basic', secretInQuery: false };
  }
  if (paramId === undefined) {
    throw new OAuthError('invalid_client', 'Client authentication is required: client_id and client_secret, or HTTP Basic.');
  }
  if (paramSecret === undefined) return { clientId: paramId, clientSecret: undefined, method: 'none', secretInQuery: false };
  return {
    clientId: paramId,
    clientSecret: paramSecret,
    method: 'client_secret_post',
    // seed: "Parameters can either be in the query string or x-www-urlencoded-form", client_secret included.
    secretInQuery: params.fromQuery('client_secret'),
  };
}

/** RFC 6749 Appendix B: the id and secret are form-encoded before they are Basic-encoded. */
function parseBasic(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic[ ]+([A-Za-z0-9+/=_-]*)\s*$/i.exec(header);
  if (!match) {
    if (/^Basic\b/i.test(header))
      throw new OAuthError('invalid_client', 'Malformed HTTP Basic credentials.', { status: 401, headers: BASIC_CHALLENGE });
    return undefined;
  }
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw new OAuthError('invalid_client', 'Malformed HTTP Basic credentials.', { status: 401, headers: BASIC_CHALLENGE });
  try {
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { clientId: unform(decoded.slice(0, colon)), clientSecret: unform(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthError('invalid_client', 'Malformed HTTP Basic credentials.', { status: 401, headers: BASIC_CHALLENGE });
  }
}

function sameHash(a: Buffer, hash: string): boolean {
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Authenticates the client, in constant time with respect to the secret. A secret rotated out
 * with a grace period (admin API `POST /clients/{id}/secret`) is accepted until the grace ends;
 * both hashes are always compared, so timing tells nothing about which one matched.
 */
export async function authenticateClient(store: StoreOps, credentials: PresentedCredentials, now: number): Promise<Client> {
  const failure = () =>
    credentials.method === 'client_secret_basic'
      ? // RFC 6749 §5.2: after a failed Basic authentication the server MUST answer 401 with WWW-Authenticate.
        new OAuthError('invalid_client', 'Client authentication failed.', { status: 401, headers: BASIC_CHALLENGE })
      : new OAuthError('invalid_client', 'Client authentication failed.');
  // An id no client can have (over-long, or with a NUL, which PostgreSQL refuses in text) is not looked up.
  const lookup = credentials.clientId.length <= 200 && !credentials.clientId.includes('\u0000');
  const client = lookup ? await store.clients.find(credentials.clientId) : undefined;
  if (credentials.clientSecret === undefined) {
    // Contract §11: only a public client names itself without a secret; a confidential one must prove itself.
    if (!client?.public || client.disabled) {
      throw new OAuthError('invalid_client', 'Client authentication is required: client_id and client_secret, or HTTP Basic.');
    }
    return client;
  }
  // A public client has no secret (its row keeps the hash of one nobody was given): sending one is a mistake worth naming.
  if (client?.public && !client.disabled) {
    throw new OAuthError('invalid_client', 'This is a public client: send client_id only, without a client_secret.');
  }
  const presented = Buffer.from(hashSecret(credentials.clientSecret));
  const current = sameHash(presented, client?.secretHash ?? DECOY_SECRET_HASH);
  const previousLive = (client?.previousSecretExpiresAt ?? 0) > now;
  const previous = sameHash(presented, (previousLive ? client?.previousSecretHash : undefined) ?? DECOY_SECRET_HASH);
  const matches = current || (previousLive && previous);
  if (!client || !matches || client.disabled) throw failure();
  if (credentials.secretInQuery && !client.querySecrets) {
    throw new OAuthError(
      'invalid_request',
      'This client does not accept client_secret in the query string; send it in the body or with HTTP Basic.',
    );
  }
  return client;
}
