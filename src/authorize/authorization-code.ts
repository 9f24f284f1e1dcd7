import { newSecret, storedKey } from '../crypto/secrets.ts';
import type { StoreOps } from '../store/store.ts';

/**
 * Minting authorization codes at the end of a successful login on the authorize page. Only the
 * hash is stored; the exchange (grants/authorization-code-grant.ts) checks every binding.
 */

/** RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED"; we keep 60 s. */
export const AUTHORIZATION_CODE_TTL_MS = 60_000;

export interface CodeBinding {
  clientId: string;
  userId: string;
  redirectUri: string;
  /** whether the authorize request named redirect_uri (then the exchange must repeat it, RFC 6749 §4.1.3) */
  redirectUriGiven: boolean;
  /** the S256 challenge, or null when the request had none */
  codeChallenge: string | null;
  /** contract §5: the scope granted on the authorize request, space-separated */
  scope: string;
  /** contract §11: the browser sign-in it was issued in, its auth_time (ms), and the request's nonce */
  browserSessionId?: string | null;
  authTime?: number | null;
  nonce?: string | null;
}

/** Stores a new single-use code bound to the client, redirect URI, challenge and user; returns it. */
export async function issueAuthorizationCode(store: StoreOps, now: number, binding: CodeBinding): Promise<string> {
  // 256 bits from the CSPRNG (RFC 6749 §10.10 asks for at least 128), prefixed `sac_`.
  const code = newSecret('authorization_code');
  await store.codes.create({
    hash: storedKey(code),
    ...binding,
    expiresAt: now + AUTHORIZATION_CODE_TTL_MS,
    usedAt: null,
    sessionId: null,
    createdAt: now,
  });
  return code;
}
