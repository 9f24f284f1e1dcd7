/**
 * Seeding the store the server under test uses, from this process, through the project's own
 * domain code: the client (ClientService.createClient), users, the SAML IdP (IdpService.create), sessions
 * with tokens (LoginIssuer.issue) and authorization codes (issueAuthorizationCode).
 */
import { randomBytes } from 'node:crypto';
import { issueAuthorizationCode } from '../src/authorize/authorization-code.ts';
import { s256Challenge } from '../src/authorize/pkce.ts';
import { systemClock } from '../src/clock.ts';
import { hashPassword } from '../src/crypto/passwords.ts';
import { newId } from '../src/crypto/secrets.ts';
import { IdpService } from '../src/idps/idp-service.ts';
import type { LoginIssuer } from '../src/sessions/login-issuer.ts';
import { DEFAULT_ORG_ID } from '../src/store/migrations.ts';
import type { Client, Store, User } from '../src/store/store.ts';
import { servicesFor } from '../test/support/harness.ts';
import { b64url, signedAssertion, testIdp } from '../test/support/test-idp.ts';

export const PASSWORD = 'bench-password-0123';
export const REDIRECT = 'https://app.bench.example/cb';
/** PKCE: one verifier for every code (each code still has its own binding and is single-use). */
export const CODE_VERIFIER = randomBytes(32).toString('base64url');

export interface Seeded {
  clientId: string;
  clientSecret: string;
  client: Client;
  /** password users (no session limit), one per login connection */
  loginEmails: string[];
  /** users the SAML IdP vouches for */
  samlEmails: string[];
  users: User[];
}

/** A client, `loginUsers` password users and `samlUsers` SSO users, the test IdP. One argon2 hash, shared. */
export async function seedBasics(store: Store, options: { loginUsers: number; samlUsers: number }): Promise<Seeded> {
  const services = servicesFor(store, systemClock);
  const { client_id, client_secret } = await services.clients.createClient({
    name: 'bench',
    redirectUrls: [REDIRECT],
    refreshTokens: true,
  });
  // One argon2id hash for every password user (same parameters as AccountService.createUser; hashing
  // each one would only slow the seeding down — the login cost, one verify, is the same).
  const passwordHash = await hashPassword(PASSWORD);
  const now = Date.now();
  const users: User[] = [];
  const loginEmails: string[] = [];
  const samlEmails: string[] = [];
  await store.transaction(async (tx) => {
    for (let i = 0; i < options.loginUsers; i++) {
      const user: User = {
        id: newId('usr_'),
        orgId: DEFAULT_ORG_ID,
        email: `user-${i}@bench.example`,
        passwordHash,
        maxSessions: null,
        disabled: false,
        createdAt: now,
      };
      await tx.users.create(user);
      users.push(user);
      loginEmails.push(user.email);
    }
    for (let i = 0; i < options.samlUsers; i++) {
      const user: User = {
        id: newId('usr_'),
        orgId: DEFAULT_ORG_ID,
        email: `saml-${i}@bench.example`,
        passwordHash: null,
        maxSessions: null,
        disabled: false,
        createdAt: now,
      };
      await tx.users.create(user);
      samlEmails.push(user.email);
    }
  });
  await new IdpService({ store, clock: systemClock }).create({ entityId: testIdp().entityId, certPem: testIdp().certPem, jit: false });
  const client = (await store.clients.find(client_id))!;
  return { clientId: client_id, clientSecret: client_secret, client, loginEmails, samlEmails, users };
}

function logins(store: Store): LoginIssuer {
  return servicesFor(store, systemClock).logins;
}

/** `n` sessions of the code flow; returns their access and refresh tokens. */
export async function startSessions(
  store: Store,
  seeded: Seeded,
  n: number,
): Promise<Array<{ accessToken: string; refreshToken: string }>> {
  const issuer = logins(store);
  const out: Array<{ accessToken: string; refreshToken: string }> = [];
  for (let i = 0; i < n; i++) {
    const issued = await issuer.issue(
      {
        user: seeded.users[i % seeded.users.length]!,
        client: seeded.client,
        grantType: 'authorization_code',
        endOtherSessions: false,
        redirectUrl: REDIRECT,
        issueRefreshToken: true,
        scope: '',
        audience: undefined,
      },
      {},
    );
    out.push({ accessToken: issued.accessToken, refreshToken: issued.refreshToken! });
  }
  return out;
}

/**
 * The soak's short-lived client (issue #13, item 12): its logins and refresh chains live seconds,
 * so the soak writes sessions and tokens that expire while it runs, for maintenance to prune.
 */
export async function seedShortLivedClient(
  store: Store,
  seeded: Seeded,
  lifetimes: { accessTtl: number; refreshTtl: number },
): Promise<Seeded> {
  const { client_id, client_secret } = await servicesFor(store, systemClock).clients.createClient({
    name: 'bench soak (short-lived)',
    redirectUrls: [REDIRECT],
    refreshTokens: true,
    ...lifetimes,
  });
  return { ...seeded, clientId: client_id, clientSecret: client_secret, client: (await store.clients.find(client_id))! };
}

/** `n` fresh single-use codes with PKCE (S256 of CODE_VERIFIER), minted in batches of 1000. */
export async function mintCodes(store: Store, seeded: Seeded, n: number): Promise<string[]> {
  const challenge = s256Challenge(CODE_VERIFIER);
  const codes: string[] = [];
  while (codes.length < n) {
    const batch = Math.min(1000, n - codes.length);
    await store.transaction(async (tx) => {
      const now = Date.now();
      for (let i = 0; i < batch; i++) {
        const user = seeded.users[(codes.length + i) % seeded.users.length]!;
        codes.push(
          await issueAuthorizationCode(tx, now, {
            clientId: seeded.clientId,
            userId: user.id,
            redirectUri: REDIRECT,
            redirectUriGiven: true,
            codeChallenge: challenge,
            scope: '',
          }),
        );
      }
    });
  }
  return codes;
}

/** `n` signed assertions (RFC 7522 `assertion` form, base64url), each with its own ID. */
export function signAssertions(seeded: Seeded, issuer: string, n: number, validForMs: number): string[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) =>
    b64url(
      signedAssertion({
        email: seeded.samlEmails[i % seeded.samlEmails.length]!,
        audience: issuer,
        recipient: `${issuer}/oauth/token`,
        now,
        notOnOrAfter: now + validForMs,
      }),
    ),
  );
}
