/**
 * Issue #6 §4: the HTTP surface. Strict content types and body sizes on every POST endpoint,
 * security headers on every HTML page, no stack trace or library message in any response (even
 * when the store fails), constant-time secret comparisons, and the per-client opt-out of client
 * secrets in the query string.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { checkPasswordLogin } from '../../src/accounts/password-login.ts';
import { ManualClock } from '../../src/clock.ts';
import { verifyPassword } from '../../src/crypto/passwords.ts';
import { constantTimeEqual } from '../../src/crypto/secrets.ts';
import { IdpService } from '../../src/idps/idp-service.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { authorizeQuery, openLoginPage, submitLogin } from '../code-flow/flow.ts';
import { basicAuth, REPO_ROOT } from '../core/support.ts';
import { createHarness, freshDatabase, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { b64, DEFAULT_AUDIENCE, responseWithSignedAssertion, testIdp } from '../support/test-idp.ts';
import { FORM, login } from './support.ts';

const SEED_SAML_GRANT = 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer';

const POST_ENDPOINTS = ['/oauth/token', '/oauth/introspect', '/oauth/revoke', '/oauth/authorize'] as const;
const NOT_FORMS = [
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/html',
  'application/octet-stream',
];

/** Traces of an internal error that must never reach a client. */
const LEAKS = [
  /\bat\s+\S+\s+\(/,
  /\bat\s+(file|node):/,
  /node_modules/,
  /\.ts:\d+/,
  /Error:/,
  /TypeError/,
  /sqlite/i,
  /postgres/i,
  /\bpool\b/i,
  /ECONNREFUSED/,
  /SELECT\s/i,
  /database connection/i,
];

function assertNoLeak(res: LightMyRequestResponse, marker?: string): void {
  for (const leak of LEAKS) assert.doesNotMatch(res.body, leak, `the response leaks an internal error: ${res.body.slice(0, 300)}`);
  if (marker) assert.equal(res.body.includes(marker), false, 'the response quotes the library message');
}

/** A bare RFC 6749 §5.2 error body: exactly error and error_description. */
function assertBareOAuthError(res: LightMyRequestResponse, codes: readonly string[]): void {
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  assert.ok(codes.includes(body.error as string), `error ${String(body.error)}`);
  assert.equal(res.headers['cache-control'], 'no-store');
}

function assertHtmlSecurityHeaders(res: LightMyRequestResponse): void {
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8$/);
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.headers['referrer-policy'], 'no-referrer');
}

/** A valid-looking form for each endpoint (the content-type or size is what is wrong). */
function formFor(endpoint: (typeof POST_ENDPOINTS)[number], s: Seeded): string {
  const client = { client_id: s.clientId, client_secret: s.clientSecret };
  if (endpoint === '/oauth/token')
    return new URLSearchParams({ grant_type: 'client_credentials', ...client, email: s.email, password: s.password }).toString();
  if (endpoint === '/oauth/authorize')
    return new URLSearchParams({ response_type: 'code', client_id: s.clientId, email: s.email, password: s.password }).toString();
  return new URLSearchParams({ ...client, token: 'sat_whatever' }).toString();
}

for (const kind of storeKinds()) {
  describe(`HTTP hardening [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind, clock: new ManualClock(), rateLimits: { perIp: 0, perClient: 0 } });
    });
    after(async () => h?.close());

    test('every POST endpoint refuses a body that is not application/x-www-form-urlencoded with 415 (JSON: 400 on the OAuth endpoints), before reading it', async () => {
      const s = await h.seed();
      for (const endpoint of POST_ENDPOINTS) {
        for (const type of [...NOT_FORMS, undefined]) {
          const res = await h.app.inject({
            method: 'POST',
            url: endpoint,
            payload: formFor(endpoint, s),
            headers: type ? { 'content-type': type } : {},
          });
          // A JSON body is a client library's mistake: the OAuth endpoints answer it 400 invalid_request.
          const expected = type === 'application/json' && endpoint !== '/oauth/authorize' ? 400 : 415;
          assert.equal(res.statusCode, expected, `${endpoint} with ${type ?? 'no content type'}: ${res.statusCode}`);
          assertNoLeak(res);
          if (endpoint === '/oauth/authorize') assertHtmlSecurityHeaders(res);
          else assertBareOAuthError(res, ['invalid_request']);
        }
      }
      assert.equal((await h.store.events.list({ userId: s.userId })).length, 0, 'nothing was checked');
    });

    test('every POST endpoint refuses a body over 256 KiB with 413', async () => {
      const s = await h.seed();
      for (const endpoint of POST_ENDPOINTS) {
        const payload = `${formFor(endpoint, s)}&pad=${'x'.repeat(256 * 1024)}`;
        const res = await h.app.inject({ method: 'POST', url: endpoint, payload, headers: FORM });
        assert.equal(res.statusCode, 413, `${endpoint}: ${res.statusCode}`);
        assertNoLeak(res);
        if (endpoint === '/oauth/authorize') assertHtmlSecurityHeaders(res);
        else assertBareOAuthError(res, ['invalid_request']);
      }
      assert.equal((await h.store.events.list({ userId: s.userId })).length, 0, 'nothing was checked');
    });

    test('every HTML page carries CSP with frame-ancestors none, X-Frame-Options DENY, nosniff and no-store', async () => {
      const s = await h.seed({ client: { allowNoPkce: true } });
      const pages: Array<[string, LightMyRequestResponse]> = [];
      const page = await openLoginPage(h, authorizeQuery(s));
      pages.push(['login page', page.res]);
      pages.push(['wrong password', await submitLogin(h, page, { email: s.email, password: 'wrong password' })]);
      pages.push(['stale form (CSRF)', await submitLogin(h, page, { email: s.email, password: s.password }, { cookie: null })]);
      pages.push([
        'unknown client',
        await h.app.inject({ method: 'GET', url: '/oauth/authorize?response_type=code&client_id=cli_unknown' }),
      ]);
      pages.push([
        'unregistered redirect',
        await h.app.inject({ method: 'GET', url: `/oauth/authorize?${authorizeQuery(s, { redirect_uri: 'https://evil.example/cb' })}` }),
      ]);
      pages.push(['repeated parameter', await h.app.inject({ method: 'GET', url: `/oauth/authorize?${authorizeQuery(s)}&state=again` })]);
      for (const [name, res] of pages) {
        assert.ok(res.statusCode >= 200 && res.statusCode < 500, `${name}: ${res.statusCode}`);
        assertHtmlSecurityHeaders(res);
        assert.doesNotMatch(res.body, /<script/i, `${name}: no scripts`);
        assert.doesNotMatch(res.body, /https?:\/\/(?!app\.example)[^"'\s]+\.(css|js)/, `${name}: no external assets`);
      }
    });

    test('JSON answers carry Cache-Control no-store and nosniff, successes and errors alike', async () => {
      const s = await h.seed();
      const ok = await login(h, s);
      const token = ok.json().access_token as string;
      const answers = [
        ok,
        await login(h, s, { password: 'wrong password' }),
        await h.post('/oauth/introspect', { client_id: s.clientId, client_secret: s.clientSecret, token }),
        await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token }),
        await h.app.inject({ method: 'GET', url: '/no/such/path' }),
      ];
      for (const res of answers) {
        assert.equal(res.headers['cache-control'], 'no-store', res.body);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
      }
    });

    test('a client created with querySecrets false refuses client_secret in the query string but accepts it in the body and with HTTP Basic', async () => {
      const s = await h.seed({ client: { querySecrets: false } });
      const ok = await login(h, s);
      assert.equal(ok.statusCode, 200, 'in the body');
      const token = ok.json().access_token as string;
      const params = {
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        email: s.email,
        password: s.password,
      };

      const query = new URLSearchParams({ client_id: s.clientId, client_secret: s.clientSecret }).toString();
      const inQuery = await h.post('/oauth/token', { grant_type: 'client_credentials', email: s.email, password: s.password }, { query });
      assertBareOAuthError(inQuery, ['invalid_request']);
      assert.equal(inQuery.statusCode, 400);
      assert.match(inQuery.json().error_description, /query string/);
      // Only the secret matters: client_id alone in the query string is fine.
      const { client_id: _inQuery, ...rest } = params;
      const idInQuery = await h.post('/oauth/token', rest, { query: `client_id=${s.clientId}` });
      assert.equal(idInQuery.statusCode, 200, idInQuery.body);
      for (const endpoint of ['/oauth/introspect', '/oauth/revoke']) {
        assertBareOAuthError(await h.post(endpoint, { token }, { query }), ['invalid_request']);
      }

      const basic = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', email: s.email, password: s.password },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );
      assert.equal(basic.statusCode, 200, 'with HTTP Basic');
      const introspected = await h.post(
        '/oauth/introspect',
        { token },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );
      assert.equal(introspected.json().active, true);

      // The seed's default: another client still accepts its secret in the query string.
      const seedClient = await h.seed();
      const seedQuery = new URLSearchParams({ client_id: seedClient.clientId, client_secret: seedClient.clientSecret }).toString();
      const allowed = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', email: seedClient.email, password: seedClient.password },
        { query: seedQuery },
      );
      assert.equal(allowed.statusCode, 200, allowed.body);
    });
  });

  describe(`the seed's SAML grant name is a grant, never client authentication [${kind}]`, () => {
    test('a SAML assertion authenticates no client: without client credentials it is invalid_client, as client_assertion it is ignored', async () => {
      const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
      const h = await createHarness({ kind, clock, issuer: DEFAULT_AUDIENCE, rateLimits: { perIp: 0, perClient: 0 } });
      try {
        await new IdpService({ store: h.store, clock }).create({ entityId: testIdp().entityId, certPem: testIdp().certPem });
        const s = await h.seed({ email: 'alice@example.com' });
        const doc = () => b64(responseWithSignedAssertion({ now: clock.now() }));
        // The seed's grant with a valid document but no client authentication.
        const noClient = await h.post('/oauth/token', { grant_type: SEED_SAML_GRANT, client_id: s.clientId, SAMLResponse: doc() });
        assertBareOAuthError(noClient, ['invalid_client']);
        // RFC 7521 client authentication by assertion is not a way in either.
        const asClientAuth = await h.post('/oauth/token', {
          grant_type: SEED_SAML_GRANT,
          client_id: s.clientId,
          client_assertion_type: SEED_SAML_GRANT,
          client_assertion: doc(),
          SAMLResponse: doc(),
        });
        assertBareOAuthError(asClientAuth, ['invalid_client']);
        const passwordGrant = await h.post('/oauth/token', {
          grant_type: 'client_credentials',
          client_id: s.clientId,
          client_assertion_type: SEED_SAML_GRANT,
          client_assertion: doc(),
          email: s.email,
          password: s.password,
        });
        assertBareOAuthError(passwordGrant, ['invalid_client']);
        assert.equal((await h.store.events.list({ userId: s.userId })).length, 0, 'no login was even attempted');
        // With client authentication the same kind of document logs in: the grant works.
        const ok = await h.post('/oauth/token', {
          grant_type: SEED_SAML_GRANT,
          client_id: s.clientId,
          client_secret: s.clientSecret,
          SAMLResponse: doc(),
        });
        assert.equal(ok.statusCode, 200, ok.body);
      } finally {
        await h.close();
      }
    });
  });

  describe(`no stack traces or library messages in responses [${kind}]`, () => {
    test('a library error thrown by the store is a bare server_error; its message is logged, not sent', async () => {
      const h = await createHarness({ kind, rateLimits: { perIp: 0, perClient: 0 } });
      try {
        const s = await h.seed();
        const marker = 'SQLITE_IOERR: disk I/O error near "SELECT secret_hash FROM clients" at /var/lib/sei-auth/x.db';
        const store = h.store as unknown as Record<string, Record<string, unknown>>;
        for (const [aggregate, method] of [
          ['clients', 'find'],
          ['users', 'findByEmail'],
          ['tokens', 'findAccess'],
          ['tokens', 'findRefresh'],
        ] as const) {
          store[aggregate]![method] = async () => {
            throw new TypeError(marker);
          };
        }
        for (const endpoint of ['/oauth/token', '/oauth/introspect', '/oauth/revoke'] as const) {
          const res = await h.app.inject({ method: 'POST', url: endpoint, payload: formFor(endpoint, s), headers: FORM });
          assert.equal(res.statusCode, 500, `${endpoint}: ${res.body}`);
          assertBareOAuthError(res, ['server_error']);
          assertNoLeak(res, marker);
        }
        const page = await h.app.inject({ method: 'GET', url: `/oauth/authorize?${authorizeQuery(s)}` });
        assert.equal(page.statusCode, 500);
        assertHtmlSecurityHeaders(page);
        assertNoLeak(page, marker);
        // The operator still learns what happened, from the log.
        assert.ok(h.logs.some((line) => line.includes('unhandled error') && line.includes('SQLITE_IOERR')));
      } finally {
        await h.close();
      }
    });

    test('an unavailable store is 503 temporarily_unavailable with Retry-After, without its message', async () => {
      const h = await createHarness({ kind, rateLimits: { perIp: 0, perClient: 0 } });
      try {
        const s = await h.seed();
        const marker = 'connect ECONNREFUSED 10.0.0.5:5432 (pg pool exhausted)';
        (h.store.clients as unknown as Record<string, unknown>).find = async () => {
          throw new StoreUnavailableError(marker, { cause: new Error(marker) });
        };
        for (const endpoint of ['/oauth/token', '/oauth/introspect', '/oauth/revoke'] as const) {
          const res = await h.app.inject({ method: 'POST', url: endpoint, payload: formFor(endpoint, s), headers: FORM });
          assert.equal(res.statusCode, 503, `${endpoint}: ${res.body}`);
          assertBareOAuthError(res, ['temporarily_unavailable']);
          assert.equal(res.headers['retry-after'], '1');
          assertNoLeak(res, marker);
        }
      } finally {
        await h.close();
      }
    });

    test('a store closed under the running app: every endpoint answers a bare 5xx error, and the app stays up', async () => {
      const db = await freshDatabase(kind);
      const h = await createHarness({ kind, databaseUrl: db.url, rateLimits: { perIp: 0, perClient: 0 } });
      try {
        const s = await h.seed();
        await h.store.close();
        for (const endpoint of ['/oauth/token', '/oauth/introspect', '/oauth/revoke'] as const) {
          const res = await h.app.inject({ method: 'POST', url: endpoint, payload: formFor(endpoint, s), headers: FORM });
          assert.ok(res.statusCode === 500 || res.statusCode === 503, `${endpoint}: ${res.statusCode} ${res.body}`);
          assertBareOAuthError(res, ['server_error', 'temporarily_unavailable']);
          assertNoLeak(res);
        }
        for (const res of [
          await h.app.inject({ method: 'GET', url: `/oauth/authorize?${authorizeQuery(s)}` }),
          await h.app.inject({ method: 'POST', url: '/oauth/authorize', payload: formFor('/oauth/authorize', s), headers: FORM }),
        ]) {
          assert.ok(res.statusCode >= 500, `authorize: ${res.statusCode}`);
          assertHtmlSecurityHeaders(res);
          assertNoLeak(res);
        }
        const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(ready.statusCode, 503);
        assertNoLeak(ready);
        assert.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the process is still up');
      } finally {
        await h.app.close();
        await db.drop();
      }
    });
  });
}

describe('credential storage and timing', () => {
  test('user passwords are stored only as argon2id hashes with the OWASP parameters', async () => {
    const h = await createHarness({});
    try {
      const s = await h.seed({ password: 'a password to hash 1' });
      const user = await h.store.users.findByEmail(s.email);
      assert.match(user!.passwordHash!, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.equal(user!.passwordHash!.includes(s.password), false);
    } finally {
      await h.close();
    }
  });

  test('client ids, client secrets, tokens and codes are generated by the server: random, distinct, 256-bit secrets, never chosen by the caller', async () => {
    const h = await createHarness({ rateLimits: { perIp: 0, perClient: 0 } });
    try {
      const clients = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          // A caller-chosen id or secret is not an input: extra fields are ignored.
          h.services.clients.createClient({
            name: `c${i}`,
            redirectUrls: ['https://app.example/callback'],
            ...({ id: 'chosen-id', clientId: 'chosen-id', secret: 'chosen-secret' } as object),
          }),
        ),
      );
      const ids = clients.map((c) => c.client_id);
      const secrets = clients.map((c) => c.client_secret);
      assert.equal(new Set(ids).size, 20);
      assert.equal(new Set(secrets).size, 20);
      assert.ok(!ids.includes('chosen-id') && !secrets.includes('chosen-secret'));
      for (const secret of secrets) assert.match(secret, /^scs_[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      const s = await h.seed();
      const tokens = await Promise.all(Array.from({ length: 5 }, () => login(h, s)));
      for (const res of tokens) assert.match(res.json().access_token, /^sat_[0-9a-f]{12}[A-Za-z0-9_-]{43}$/);
      assert.equal(new Set(tokens.map((r) => r.json().access_token)).size, 5);
    } finally {
      await h.close();
    }
  });

  test('an unknown email costs the same argon2 verify as a wrong password: no timing oracle for which accounts exist', async () => {
    // Counted, not timed (timings on a shared 2-core machine prove nothing): every attempt runs
    // exactly one argon2id verify — against the decoy hash when the email is unknown.
    const h = await createHarness({ throttle: { accountMaxFailures: 1000, ipMaxFailures: 1000 }, rateLimits: { perIp: 0, perClient: 0 } });
    try {
      const s = await h.seed();
      const calls: Array<string | null> = [];
      const verify = async (storedHash: string | null, password: string) => {
        calls.push(storedHash);
        return verifyPassword(storedHash, password);
      };
      const attempt = (email: string) =>
        checkPasswordLogin(
          { store: h.store, clock: h.clock, verify },
          { email, password: 'a wrong password', clientId: s.clientId, context: {} },
        );
      assert.equal(await attempt(s.email), undefined);
      assert.equal(await attempt('nobody@example.com'), undefined);
      assert.equal(calls.length, 2, 'one verify per attempt, known or unknown');
      assert.match(String(calls[0]), /^\$argon2id\$/);
      // The unknown email still paid for a verify; verifyPassword substitutes its decoy for null.
      assert.equal(calls[1], null);
      assert.equal(await verifyPassword(null, 'anything at all'), false);
    } finally {
      await h.close();
    }
  });
});

describe('constant-time comparisons', () => {
  test('constantTimeEqual compares by value, whatever the lengths', () => {
    assert.equal(constantTimeEqual('abc', 'abc'), true);
    assert.equal(constantTimeEqual('abc', 'abd'), false);
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
    assert.equal(constantTimeEqual('', ''), true);
    assert.equal(constantTimeEqual('é', 'e\u0301'), false);
  });

  test('no source file compares a secret, a secret hash, a PKCE challenge or a CSRF token with === or !==', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) files.push(path);
      }
    };
    walk(join(REPO_ROOT, 'src'));
    const secretish = String.raw`[\w.]*(?:secret|Secret|[pP]asswordHash|secretHash|[cC]hallenge|csrf|Csrf|[vV]erifier|metricsToken|[tT]oken(?:Hash)?)[\w.!?()]*`;
    const nullish = String.raw`(?:null|undefined|'[\w-]*'|"[\w-]*"|\d+|true|false)`;
    const comparison = new RegExp(
      String.raw`(${secretish})\s*[!=]==\s*(?!${nullish}(?![\w.]))([\w.]+)|([\w.]+)(?<!${nullish})\s*[!=]==\s*(${secretish})`,
    );
    const offenders: string[] = [];
    for (const file of files) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\*)/.test(line)) return;
          const m = comparison.exec(line);
          if (!m) return;
          // Comparisons of lengths, kinds, types and public values are not secret comparisons.
          if (
            /\.length|typeof|\bkind\b|token_type|tokenType|TOKEN_ROUTE|grant_type|grantType|hint|method|Method|clientId|Issuer|issuer/.test(
              m[0],
            )
          )
            return;
          offenders.push(`${file.slice(REPO_ROOT.length)}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(offenders, [], 'secrets must be compared with timingSafeEqual / constantTimeEqual');
  });
});
