/**
 * Issue #18: nothing acknowledged that a crash can lose. A server process is killed with SIGKILL
 * while parallel connections rotate refresh chains and exchange authorization codes — on SQLite,
 * with its write transactions grouped into one commit, and on PostgreSQL. A new process on the
 * same database must know everything a 200 was sent for before the kill: every acknowledged
 * access token introspects active, each chain's last acknowledged refresh token still refreshes
 * (it was not rotated, or its rotation is replayed within the client's grace period), and every
 * acknowledged code stays spent. (A process kill keeps the operating system's page cache: this
 * proves that no response leaves before its transaction has committed; that the commit reaches
 * the disk before the response is what test/core/sqlite-group-commit.test.ts and the driver's
 * flush pin.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { issueAuthorizationCode } from '../../src/authorize/authorization-code.ts';
import { s256Challenge } from '../../src/authorize/pkce.ts';
import { systemClock } from '../../src/clock.ts';
import { openStore } from '../../src/store/open-store.ts';
import { freshDatabase, servicesFor, storeKinds } from '../support/harness.ts';
import { postForm, type ServerProcess, startServerProcess } from '../support/server-process.ts';

const REDIRECT = 'https://crash.example/cb';
const VERIFIER = 'crash-under-load-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';
const CHAINS = 24;
const CODE_CONNECTIONS = 16;
const CODES = 3000;
const KILL_AFTER_MS = 1500;

interface Seeded {
  clientId: string;
  clientSecret: string;
  refreshTokens: string[];
  codes: string[];
}

async function seed(databaseUrl: string): Promise<Seeded> {
  const store = await openStore({ databaseUrl, now: Date.now() });
  try {
    const services = servicesFor(store, systemClock);
    const created0 = await services.accounts.createUser({ email: `crash-${Date.now()}@example.com`, password: 'crash-password-123' });
    const user = (await store.users.find(created0.id))!;
    // A grace period: a rotation committed whose answer the kill cut off is replayed, not taken for reuse.
    const created = await services.clients.createClient({
      name: 'crash',
      redirectUrls: [REDIRECT],
      refreshTokens: true,
      refreshGrace: 600,
    });
    const client = (await store.clients.find(created.client_id))!;
    const refreshTokens: string[] = [];
    for (let i = 0; i < CHAINS; i++) {
      const issued = await services.logins.issue(
        {
          user,
          client,
          grantType: 'authorization_code',
          endOtherSessions: false,
          redirectUrl: REDIRECT,
          issueRefreshToken: true,
          scope: '',
          audience: undefined,
        },
        {},
      );
      refreshTokens.push(issued.refreshToken!);
    }
    const codes: string[] = [];
    await store.transaction(async (tx) => {
      for (let i = 0; i < CODES; i++) {
        codes.push(
          await issueAuthorizationCode(tx, Date.now(), {
            clientId: client.id,
            userId: user.id,
            redirectUri: REDIRECT,
            redirectUriGiven: true,
            codeChallenge: s256Challenge(VERIFIER),
            scope: '',
          }),
        );
      }
    });
    return { clientId: created.client_id, clientSecret: created.client_secret, refreshTokens, codes };
  } finally {
    await store.close();
  }
}

for (const kind of storeKinds()) {
  describe(`a server killed under write load loses nothing it acknowledged [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let s: Seeded;
    let server: ServerProcess | undefined;
    before(async () => {
      db = await freshDatabase(kind);
      s = await seed(db.url);
    });
    after(async () => {
      await server?.stop();
      await db.drop();
    });

    test('SIGKILL during parallel refresh rotations and code exchanges; a new process knows every acknowledged write', async () => {
      server = await startServerProcess({ DATABASE_URL: db.url, RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_CLIENT: '0' });
      const creds = { client_id: s.clientId, client_secret: s.clientSecret };
      const url = server.url;
      let killed = false;
      const acknowledged: string[] = [];
      const spentCodes: string[] = [];
      const chains = s.refreshTokens.map((token) => ({ token, rotations: 0 }));

      const rotate = async (chain: { token: string; rotations: number }) => {
        while (!killed) {
          try {
            const res = await postForm(`${url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: chain.token, ...creds });
            if (res.status !== 200) throw new Error(`refresh answered ${res.status}: ${JSON.stringify(res.json)}`);
            chain.token = res.json.refresh_token as string;
            chain.rotations++;
            acknowledged.push(res.json.access_token as string);
          } catch (error) {
            if (killed) return;
            throw error;
          }
        }
      };
      let nextCode = 0;
      const exchange = async () => {
        while (!killed && nextCode < s.codes.length) {
          const code = s.codes[nextCode++]!;
          try {
            const res = await postForm(`${url}/oauth/token`, {
              grant_type: 'authorization_code',
              code,
              redirect_uri: REDIRECT,
              code_verifier: VERIFIER,
              ...creds,
            });
            if (res.status !== 200) throw new Error(`code exchange answered ${res.status}: ${JSON.stringify(res.json)}`);
            spentCodes.push(code);
            acknowledged.push(res.json.access_token as string);
          } catch (error) {
            if (killed) return;
            throw error;
          }
        }
      };
      const load = Promise.all([...chains.map(rotate), ...Array.from({ length: CODE_CONNECTIONS }, exchange)]);
      await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS));
      killed = true;
      server.child.kill('SIGKILL');
      await load;
      await server.stop();
      const rotations = chains.reduce((n, c) => n + c.rotations, 0);
      assert.ok(
        rotations >= CHAINS && spentCodes.length >= CODE_CONNECTIONS,
        `load ran: ${rotations} rotations, ${spentCodes.length} codes`,
      );

      server = await startServerProcess({ DATABASE_URL: db.url, RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_CLIENT: '0' });
      const again = server.url;
      const inactive: string[] = [];
      for (let i = 0; i < acknowledged.length; i += 32) {
        const batch = acknowledged.slice(i, i + 32);
        const answers = await Promise.all(batch.map((token) => postForm(`${again}/oauth/introspect`, { token, ...creds })));
        answers.forEach((a, j) => {
          if (a.json.active !== true) inactive.push(batch[j]!.slice(0, 16));
        });
      }
      assert.deepEqual(inactive, [], `of ${acknowledged.length} acknowledged access tokens`);
      for (const chain of chains) {
        const res = await postForm(`${again}/oauth/token`, { grant_type: 'refresh_token', refresh_token: chain.token, ...creds });
        assert.equal(res.status, 200, `a chain's last acknowledged refresh token: ${JSON.stringify(res.json)}`);
      }
      // Last, since presenting a spent code again ends its session (RFC 6749 §4.1.2).
      for (const code of spentCodes.slice(-8)) {
        const res = await postForm(`${again}/oauth/token`, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT,
          code_verifier: VERIFIER,
          ...creds,
        });
        assert.equal(res.json.error, 'invalid_grant', 'an acknowledged exchange stays spent');
      }
    });
  });
}
