/**
 * Shared helpers of the browser-SSO tests (not a test file itself): start a sign-in on the login
 * page like a browser (CSRF cookie, hidden fields, the email), read the AuthnRequest and RelayState
 * from the hand-off page, and post an IdP's answer to the ACS.
 */
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import type { LightMyRequestResponse } from 'fastify';
import { IdpService } from '../../src/idps/idp-service.ts';
import type { SecurityEvent } from '../../src/store/store.ts';
import { authorizeQuery, openLoginPage, pkcePair, setCookies, submitLogin } from '../code-flow/flow.ts';
import type { Harness, Seeded } from '../support/harness.ts';
import { type TestIdp, testIdp } from '../support/test-idp.ts';

export const SSO_URL = 'https://idp.test.example/sso';

/** Registers a test IdP that signs in the given domains through the browser. */
export async function registerSsoIdp(
  h: Harness,
  o: { domains: string[]; idp?: TestIdp; ssoUrl?: string; jit?: boolean; orgId?: string; signRequests?: boolean },
): Promise<{ id: string; entityId: string }> {
  const idp = o.idp ?? testIdp();
  const created = await new IdpService({ store: h.store, clock: h.clock }).create({
    entityId: idp.entityId,
    certPem: idp.certPem,
    ssoUrl: o.ssoUrl ?? SSO_URL,
    domains: o.domains,
    jit: o.jit ?? false,
    orgId: o.orgId,
    signRequests: o.signRequests,
  });
  return { id: created.id, entityId: idp.entityId };
}

export interface StartedSignIn {
  /** the hand-off page */
  res: LightMyRequestResponse;
  /** where the browser is sent */
  redirectUrl: URL;
  /** the AuthnRequest, inflated */
  requestXml: string;
  requestId: string;
  relayState: string;
  /** `name=value` of the browser-binding cookie */
  browserCookie: string;
  verifier: string;
  state: string;
}

/** The email step of the login page for `email`; it must hand the browser to the IdP. */
export async function startSignIn(h: Harness, s: Seeded, email: string, o: { browserCookie?: string } = {}): Promise<StartedSignIn> {
  const pkce = pkcePair();
  const state = `st-${Math.random().toString(36).slice(2)}`;
  const page = await openLoginPage(h, authorizeQuery(s, { state, code_challenge: pkce.challenge, code_challenge_method: 'S256' }));
  const cookie = o.browserCookie === undefined ? page.cookie : `${page.cookie}; ${o.browserCookie}`;
  const res = await submitLogin(h, { ...page, cookie }, { email, password: '' });
  assert.equal(res.statusCode, 200, res.body);
  const link = /<a class="button" href="([^"]+)">/.exec(res.body);
  assert.ok(link, 'the hand-off page links to the IdP');
  const redirectUrl = new URL(link[1]!.replace(/&amp;/g, '&'));
  assert.match(res.body, /<meta http-equiv="refresh" content="0;url=/);
  const samlRequest = redirectUrl.searchParams.get('SAMLRequest');
  const relayState = redirectUrl.searchParams.get('RelayState');
  assert.ok(samlRequest && relayState);
  const requestXml = inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8');
  const requestId = /\sID="([^"]+)"/.exec(requestXml)?.[1];
  assert.ok(requestId);
  const setCookie = setCookies(res).find((c) => /^(__Host-)?sei_saml_browser=/.test(c));
  assert.ok(setCookie, 'the hand-off sets the browser-binding cookie');
  return { res, redirectUrl, requestXml, requestId, relayState, browserCookie: setCookie.split(';')[0]!, verifier: pkce.verifier, state };
}

/** POST /saml/acs as the IdP's auto-submitted form would. */
export function postAcs(
  h: Harness,
  fields: { SAMLResponse?: string; RelayState?: string },
  cookie: string | null,
): Promise<LightMyRequestResponse> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
  return h.app.inject({
    method: 'POST',
    url: '/saml/acs',
    payload: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === null ? {} : { cookie }) },
  });
}

/** The refusal page's support code, which must be the id of the event that holds the reason. */
export async function refusalReason(h: Harness, res: LightMyRequestResponse): Promise<string> {
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(res.headers.location, undefined);
  assert.match(res.body, /Sign-in through your organization did not work/);
  const code = /<span class="code">([^<]+)<\/span>/.exec(res.body)?.[1];
  assert.ok(code, 'the page shows a support code');
  const events: SecurityEvent[] = await h.store.events.list({ limit: 100_000 });
  const event = events.find((e) => e.id === code);
  assert.ok(event, 'the support code names a security event');
  assert.equal(event.type, 'saml_rejected');
  // The page never says why.
  assert.ok(!res.body.includes(event.reason ?? '\u0000'), 'the reason is not on the page');
  return event.reason ?? '';
}
