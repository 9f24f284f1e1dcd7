/**
 * Shared helpers of the SAML bearer grant's HTTP tests (not a test file itself): a harness whose
 * ISSUER is the test IdP's default audience, IdP registration, the two grant forms, and the
 * checks every rejection must pass (generic invalid_grant, precise saml_rejected event, nothing
 * of the document echoed anywhere).
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { RFC7522_SAML_GRANT, SEED_SAML_GRANT } from '../../src/grants/saml-bearer-grant.ts';
import { IdpService } from '../../src/idps/idp-service.ts';
import type { SamlRejectReason } from '../../src/saml/reject.ts';
import type { SecurityEvent } from '../../src/store/store.ts';
import { createHarness, type Harness, ManualClock, type Seeded, type StoreKind } from '../support/harness.ts';
import { DEFAULT_AUDIENCE, DEFAULT_RECIPIENT, type TestIdp, testIdp } from '../support/test-idp.ts';

export { RFC7522_SAML_GRANT, SEED_SAML_GRANT };

/** The server's ISSUER: the test IdP's default Audience, so that its defaults are addressed to us. */
export const ISSUER = DEFAULT_AUDIENCE;
export const TOKEN_ENDPOINT = DEFAULT_RECIPIENT;
/** What every SAML rejection says, whatever the reason (RFC 7522 §3.1). */
export const GENERIC_DESCRIPTION = 'The SAML assertion was rejected.';
/** The seed's response fields for a login that is not the code flow: no refresh token. */
export const SEED_FIELDS = ['access_token', 'email', 'expires_in', 'redirect_url', 'token_type'];

/**
 * A harness on a ManualClock that starts at the real current time: the test IdP signs with
 * `now: h.clock.now()`, and the fixture certificates (issued recently) are valid at that instant.
 */
export type SamlHarness = Harness & { clock: ManualClock };

export async function samlHarness(kind: StoreKind, options: { databaseUrl?: string; clock?: ManualClock } = {}): Promise<SamlHarness> {
  const clock = options.clock ?? new ManualClock(Date.now());
  const h = await createHarness({ kind, clock, issuer: ISSUER, databaseUrl: options.databaseUrl });
  return { ...h, clock };
}

/** Registers an IdP (default: the primary test IdP in the default organization, no domains). */
export async function registerIdp(
  h: Harness,
  o: { entityId?: string; orgId?: string; jit?: boolean; domains?: string[]; idp?: TestIdp } = {},
): Promise<{ id: string; entityId: string }> {
  const entityId = o.entityId ?? (o.idp ?? testIdp()).entityId;
  const created = await new IdpService({ store: h.store, clock: h.clock }).create({
    entityId,
    orgId: o.orgId,
    certPem: (o.idp ?? testIdp()).certPem,
    jit: o.jit ?? false,
    domains: o.domains,
  });
  return { id: created.id, entityId };
}

export type SamlParam = 'SAMLResponse' | 'SAMLAssertion' | 'assertion';

/**
 * POST /oauth/token with a SAML parameter; the grant type follows from the parameter (the seed's
 * name for SAMLResponse/SAMLAssertion, RFC 7522's for `assertion`).
 */
export function samlLogin(
  h: Harness,
  s: Pick<Seeded, 'clientId' | 'clientSecret'>,
  param: SamlParam,
  encoded: string,
  extra: Record<string, string> = {},
) {
  return h.post('/oauth/token', {
    grant_type: param === 'assertion' ? RFC7522_SAML_GRANT : SEED_SAML_GRANT,
    client_id: s.clientId,
    client_secret: s.clientSecret,
    [param]: encoded,
    ...extra,
  });
}

/** The security events written while answering this response's request. */
export async function eventsOf(h: Harness, res: LightMyRequestResponse): Promise<SecurityEvent[]> {
  const requestId = String(res.headers['x-request-id']);
  return (await h.store.events.list({ limit: 100_000 })).filter((e) => e.requestId === requestId);
}

/**
 * A refused SAML login: 400 invalid_grant with the generic description, no token, and exactly one
 * saml_rejected event for the request, with the precise reason. Returns that event.
 */
export async function assertSamlRejected(
  h: Harness,
  res: LightMyRequestResponse,
  reason:
    | SamlRejectReason
    | 'replayed'
    | 'unknown_user'
    | 'user_not_in_org'
    | 'user_disabled'
    | 'lifetime_too_long'
    | 'email_domain_not_allowed'
    | 'jit_without_domains'
    | 'invalid_email',
): Promise<SecurityEvent> {
  assert.equal(res.statusCode, 400, `expected 400 invalid_grant (${reason}), got ${res.statusCode} ${res.body}`);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.deepEqual(res.json(), { error: 'invalid_grant', error_description: GENERIC_DESCRIPTION });
  const events = await eventsOf(h, res);
  const rejected = events.filter((e) => e.type === 'saml_rejected');
  assert.equal(rejected.length, 1, `one saml_rejected event per refused request; got ${JSON.stringify(events)}`);
  assert.equal(rejected[0]!.reason, reason);
  assert.ok(!events.some((e) => e.type === 'session_started' || e.type === 'login_succeeded'), 'a refused assertion starts no session');
  return rejected[0]!;
}

/** A 200 with exactly the seed fields of a non-code-flow login, for this email. */
export function assertSeedTokenResponse(res: LightMyRequestResponse, email: string): { access_token: string } {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), SEED_FIELDS);
  assert.match(body.access_token as string, /^sat_[0-9a-f]{12}[A-Za-z0-9_-]{43}$/);
  assert.equal(body.token_type, 'BearerToken');
  assert.equal(body.expires_in, 3600);
  assert.equal(body.redirect_url, 'https://app.example/callback');
  assert.equal(body.email, email);
  return body as { access_token: string };
}

/** The SignatureValue texts of a signed document (distinctive, random-looking substrings). */
export function signatureValues(xml: string): string[] {
  return [...xml.matchAll(/<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/g)].map((m) => m[1]!.replace(/\s+/g, ''));
}

/**
 * Neither the response, nor any log line, nor any stored event carries the document: not its
 * encoded form (whole or a long slice), not the given distinctive substrings of its XML.
 */
export async function assertDocumentNotEchoed(
  h: Harness,
  res: LightMyRequestResponse,
  encoded: string,
  xmlFragments: readonly string[],
): Promise<void> {
  const events = JSON.stringify(await h.store.events.list({ limit: 100_000 }));
  const places: Array<[string, string]> = [
    ['response body', res.body],
    ['response headers', JSON.stringify(res.headers)],
    ['logs', h.logs.join('\n')],
    ['security events', events],
  ];
  const needles = [encoded, encoded.slice(100, 160), ...xmlFragments].filter((n) => n.length >= 12);
  assert.ok(needles.length >= 1, 'the check needs something distinctive to look for');
  for (const [where, text] of places) {
    for (const needle of needles) assert.ok(!text.includes(needle), `the ${where} carry part of the document: ${needle.slice(0, 40)}…`);
  }
}
