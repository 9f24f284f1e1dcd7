import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { storedKey } from '../../src/crypto/secrets.ts';
import { openWithSecret } from '../../src/crypto/token-sealing.ts';
import { rawDriver } from '../store/support.ts';
import { createHarness, type Harness, ManualClock, type Seeded, storeKinds } from '../support/harness.ts';
import { exchangeCode, isActive, obtainCode, pkcePair, refresh } from './flow.ts';

/** How many refresh token rows the session of `token` holds, read from the tables themselves. */
async function refreshRows(h: Harness, token: string): Promise<number> {
  const record = await h.store.tokens.findRefresh(storedKey(token));
  assert.ok(record, 'a refresh token of this server');
  const driver = await rawDriver(h.store.kind, h.databaseUrl);
  try {
    const row = await driver.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM refresh_tokens WHERE session_id = ?', [
      record.sessionId,
    ]);
    return Number(row?.n);
  } finally {
    await driver.close();
  }
}

/** Logs in through the page and exchanges the code: the start of a refresh-token family. */
async function codeLogin(
  h: Harness,
  s: Seeded,
): Promise<{ access_token: string; refresh_token: string; refresh_token_expires_in: number }> {
  const { verifier, challenge } = pkcePair();
  const code = await obtainCode(h, s, { code_challenge: challenge, code_challenge_method: 'S256' });
  const res = await exchangeCode(h, s, code, { code_verifier: verifier });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

for (const kind of storeKinds()) {
  describe(`refresh tokens of the code flow [${kind}]`, () => {
    let h: Harness;
    let clock: ManualClock;
    before(async () => {
      clock = new ManualClock();
      h = await createHarness({ kind, clock });
    });
    after(() => h.close());

    test('rotation: a refresh returns a new access and refresh token, and the old refresh token is refused after use', async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      const first = await codeLogin(h, s);
      const res = await refresh(h, s, first.refresh_token);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const second = res.json();
      assert.deepEqual(Object.keys(second).sort(), [
        'access_token',
        'email',
        'expires_in',
        'redirect_url',
        'refresh_token',
        'refresh_token_expires_in',
        'token_type',
      ]);
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.notEqual(second.access_token, first.access_token);
      assert.equal(second.email, s.email);
      assert.ok(await isActive(h, s, second.access_token));
      assert.equal(await isActive(h, s, first.refresh_token), false, 'the rotated token is no longer active');

      const third = await refresh(h, s, second.refresh_token);
      assert.equal(third.statusCode, 200, 'the new refresh token works');
      const again = await refresh(h, s, first.refresh_token);
      assert.equal(again.statusCode, 400);
      assert.equal(again.json().error, 'invalid_grant');
    });

    test('reuse detection: a rotated refresh token presented again ends the whole session and records refresh_token_reused', async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      const first = await codeLogin(h, s);
      const second = (await refresh(h, s, first.refresh_token)).json();
      const reused = await refresh(h, s, first.refresh_token);
      assert.equal(reused.statusCode, 400);
      assert.equal(reused.json().error, 'invalid_grant');

      for (const token of [first.access_token, second.access_token, second.refresh_token]) {
        assert.equal(await isActive(h, s, token), false, 'every token of the session is dead');
      }
      assert.equal((await refresh(h, s, second.refresh_token)).json().error, 'invalid_grant', 'the current refresh token is dead too');
      const events = await h.store.events.list({ userId: s.userId });
      const event = events.find((e) => e.type === 'refresh_token_reused');
      assert.ok(event, 'a refresh_token_reused security event');
      assert.equal((await h.store.sessions.find(event.sessionId!))?.endReason, 'refresh_token_reuse');
    });

    test("grace window: the previous token works again within the client's refreshGrace, and counts as reuse after it", async () => {
      const s = await h.seed({ client: { refreshTokens: true, refreshGrace: 10 } });
      const first = await codeLogin(h, s);
      const second = (await refresh(h, s, first.refresh_token)).json();
      clock.advance(5_000);
      const retry = await refresh(h, s, first.refresh_token);
      assert.equal(retry.statusCode, 200, 'within 10 s the previous token is accepted again');
      assert.equal(retry.json().access_token, second.access_token, 'the retry gets the same tokens again');
      assert.equal(retry.json().refresh_token, second.refresh_token);
      assert.equal(retry.json().expires_in, second.expires_in - 5, 'expires_in counts from the retry');
      assert.ok(await isActive(h, s, second.access_token), 'and the session lives on');

      clock.advance(5_001);
      const late = await refresh(h, s, first.refresh_token);
      assert.equal(late.statusCode, 400);
      assert.equal(late.json().error, 'invalid_grant');
      assert.equal(await isActive(h, s, second.access_token), false, 'after the window it is reuse: the session ended');
      assert.ok((await h.store.events.list({ userId: s.userId })).some((e) => e.type === 'refresh_token_reused'));
    });

    test('grace window: two presentations of the previous token return identical bodies, and no new branch', async () => {
      const s = await h.seed({ client: { refreshTokens: true, refreshGrace: 30 } });
      const first = await codeLogin(h, s);
      const rotated = await refresh(h, s, first.refresh_token);
      assert.equal(rotated.statusCode, 200, rotated.body);
      const rows = await refreshRows(h, first.refresh_token);
      const again = await refresh(h, s, first.refresh_token);
      const third = await refresh(h, s, first.refresh_token);
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(again.json(), rotated.json(), 'the retry is answered exactly like the rotation');
      assert.deepEqual(third.json(), rotated.json());
      assert.equal(await refreshRows(h, first.refresh_token), rows, 'no token row was written by the retries');
      // The one successor is the live branch: it rotates normally.
      const next = await refresh(h, s, rotated.json().refresh_token);
      assert.equal(next.statusCode, 200, next.body);
      assert.notEqual(next.json().refresh_token, rotated.json().refresh_token);
    });

    test('grace window: once the successor was rotated too, the older token gets invalid_grant and no tokens', async () => {
      const s = await h.seed({ client: { refreshTokens: true, refreshGrace: 30 } });
      const first = await codeLogin(h, s);
      const second = (await refresh(h, s, first.refresh_token)).json();
      const third = (await refresh(h, s, second.refresh_token)).json();
      const stale = await refresh(h, s, first.refresh_token);
      assert.equal(stale.statusCode, 400, stale.body);
      assert.equal(stale.json().error, 'invalid_grant');
      assert.ok(await isActive(h, s, third.refresh_token), 'inside the window this is not reuse: the session lives on');
      // The newest rotation can still be retried.
      assert.deepEqual((await refresh(h, s, second.refresh_token)).json(), third);
    });

    test('grace window: a retry after the session ended gets invalid_grant, never the ended tokens', async () => {
      const s = await h.seed({ client: { refreshTokens: true, refreshGrace: 30 } });
      const first = await codeLogin(h, s);
      const second = (await refresh(h, s, first.refresh_token)).json();
      const revoked = await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token: second.access_token });
      assert.equal(revoked.statusCode, 200);
      const retry = await refresh(h, s, first.refresh_token);
      assert.equal(retry.statusCode, 400, retry.body);
      assert.equal(retry.json().error, 'invalid_grant');
      assert.equal(retry.body.includes(second.refresh_token), false);
    });

    test('grace window: the stored successor is sealed, and cannot be read without the rotated token', async () => {
      const s = await h.seed({ client: { refreshTokens: true, refreshGrace: 30 } });
      const first = await codeLogin(h, s);
      const second = (await refresh(h, s, first.refresh_token)).json();
      const row = await h.store.tokens.findRefresh(storedKey(first.refresh_token));
      assert.ok(row?.successor, 'the rotated row keeps its successor');
      for (const secret of [second.access_token, second.refresh_token]) {
        assert.equal(row.successor.includes(secret.slice(4)), false, 'no successor token in clear');
      }
      assert.equal(openWithSecret(second.refresh_token, row.successor), undefined, 'another token cannot open it');
      assert.ok(openWithSecret(first.refresh_token, row.successor)?.includes(second.refresh_token));
      // Without a grace window nothing is kept.
      const plain = await h.seed({ client: { refreshTokens: true } });
      const tokens = await codeLogin(h, plain);
      assert.equal((await refresh(h, plain, tokens.refresh_token)).statusCode, 200);
      assert.equal((await h.store.tokens.findRefresh(storedKey(tokens.refresh_token)))?.successor, null);
    });

    test('absolute lifetime: refresh_token_expires_in counts down from the original login and never grows', async () => {
      const s = await h.seed({ client: { refreshTokens: true, refreshTtl: 100 } });
      let current = await codeLogin(h, s);
      assert.equal(current.refresh_token_expires_in, 100);
      for (const expected of [70, 40, 10]) {
        clock.advance(30_000);
        const res = await refresh(h, s, current.refresh_token);
        assert.equal(res.statusCode, 200, res.body);
        current = res.json();
        assert.equal(current.refresh_token_expires_in, expected);
      }
      clock.advance(10_000);
      const expired = await refresh(h, s, current.refresh_token);
      assert.equal(expired.statusCode, 400);
      assert.equal(expired.json().error, 'invalid_grant', 'after the family expiry');
    });

    test('a refresh token works only for the client it was issued to', async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      const other = await h.seed({ client: { refreshTokens: true } });
      const tokens = await codeLogin(h, s);
      const stolen = await refresh(h, other, tokens.refresh_token);
      assert.equal(stolen.statusCode, 400);
      assert.equal(stolen.json().error, 'invalid_grant');
      assert.equal((await refresh(h, s, tokens.refresh_token)).statusCode, 200, 'its own client can still use it');
    });
  });

  describe(`the parallel-refresh race on a listening server [${kind}]`, () => {
    let h: Harness;
    let base: string;
    before(async () => {
      h = await createHarness({ kind });
      base = await h.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(() => h.close());

    /** `n` refreshes of one token sent at once to the listening server. */
    const parallelRefreshes = (s: Seeded, refreshToken: string, n: number) => {
      const body = new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        refresh_token: refreshToken,
      }).toString();
      return Promise.all(
        Array.from({ length: n }, async () => {
          const res = await fetch(`${base}/oauth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body,
          });
          return { status: res.status, json: (await res.json()) as Record<string, unknown> };
        }),
      );
    };

    test('50 parallel refreshes with one token: exactly one 200, the rest invalid_grant, never a 5xx', async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      const tokens = await codeLogin(h, s);
      const responses = await parallelRefreshes(s, tokens.refresh_token, 50);
      const statuses = responses.map((r) => r.status);
      assert.equal(statuses.filter((st) => st === 200).length, 1, `statuses: ${statuses.join(',')}`);
      assert.equal(statuses.filter((st) => st >= 500).length, 0);
      for (const r of responses.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 400);
        assert.equal(r.json.error, 'invalid_grant');
      }
      // Fifty presentations of one token are reuse (RFC 9700 §4.14.2): the family is revoked, winner included.
      const winner = responses.find((r) => r.status === 200)!.json;
      assert.equal(await isActive(h, s, String(winner.refresh_token)), false);
    });

    test('50 parallel refreshes with one token and a grace window: all 200 with one and the same access and refresh token', async () => {
      const s = await h.seed({ client: { refreshTokens: true, refreshGrace: 60 } });
      const tokens = await codeLogin(h, s);
      const rowsBefore = await refreshRows(h, tokens.refresh_token);
      const responses = await parallelRefreshes(s, tokens.refresh_token, 50);
      const statuses = responses.map((r) => r.status);
      assert.deepEqual(
        statuses.filter((st) => st !== 200),
        [],
        `statuses: ${statuses.join(',')}`,
      );
      assert.equal(new Set(responses.map((r) => r.json.access_token)).size, 1, 'one access token for all');
      assert.equal(new Set(responses.map((r) => r.json.refresh_token)).size, 1, 'one refresh token for all');
      assert.equal(await refreshRows(h, tokens.refresh_token), rowsBefore + 1, 'exactly one new refresh token row');
      const winner = responses[0]!.json;
      assert.equal(await isActive(h, s, String(winner.access_token)), true, 'the one branch lives');
      assert.equal(await isActive(h, s, String(winner.refresh_token)), true);
      assert.equal((await h.store.events.list({ userId: s.userId })).filter((e) => e.type === 'refresh_token_reused').length, 0);
    });
  });
}
