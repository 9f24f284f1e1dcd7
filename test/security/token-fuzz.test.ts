/**
 * Issue #6 §5: property-based fuzzing of POST /oauth/token with fast-check. Random and mutated
 * requests — random parameter sets, every grant type (the password logins, authorization_code,
 * refresh_token and both SAML names), query string and body, odd encodings, duplicate keys, huge
 * values, unicode, with and without valid client credentials — must never get a 5xx, never get a
 * token (200) without valid credentials for that grant, and never bring the server down.
 *
 * The oracle reads each request as the server must (the query string and the form body, strictly
 * decoded) and decides whether it carries valid credentials: a valid client and, for the grant,
 * the right password, an unused code of that client (with its PKCE verifier), an unspent refresh
 * token of that client, or an unused signed SAML document. Only then may the answer be a token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { issueAuthorizationCode } from '../../src/authorize/authorization-code.ts';
import { verifierMatches } from '../../src/authorize/pkce.ts';
import { ManualClock } from '../../src/clock.ts';
import { parseFormEncoded } from '../../src/common/request-params.ts';
import { IdpService } from '../../src/idps/idp-service.ts';
import { emailKey } from '../../src/store/store.ts';
import { CALLBACK, pkcePair } from '../code-flow/flow.ts';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { b64, b64url, DEFAULT_AUDIENCE, responseWithSignedAssertion, signedAssertion, signedResponse } from '../support/test-idp.ts';

const SEED_SAML = 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer';
const RFC_SAML = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
const GRANTS = ['client_credentials', 'password', 'authorization_code', 'refresh_token', SEED_SAML, RFC_SAML] as const;
const FORM_TYPE = 'application/x-www-form-urlencoded';

// ---------------------------------------------------------------------------------------------
// The world the fuzzer draws valid values from, and what it has used up.

interface IssuedCode {
  code: string;
  verifier: string | null;
  challenge: string | null;
}

interface World {
  h: Harness;
  clock: ManualClock;
  /** client A: refresh tokens on; the user alice with a password */
  a: Seeded;
  /** client B: another valid client */
  b: { clientId: string; clientSecret: string };
  codes: IssuedCode[];
  usedCodes: Set<string>;
  refreshTokens: string[];
  spentRefreshTokens: Set<string>;
  samlDocs: Array<{ xml: string; bare: boolean }>;
  /** assertion IDs that got a token */
  usedSamlDocs: Set<string>;
  tokensIssued: number;
}

async function newCode(w: World, withPkce: boolean): Promise<IssuedCode> {
  const pair = withPkce ? pkcePair() : null;
  const code = await issueAuthorizationCode(w.h.store, w.clock.now(), {
    clientId: w.a.clientId,
    userId: w.a.userId,
    redirectUri: CALLBACK,
    redirectUriGiven: false,
    codeChallenge: pair?.challenge ?? null,
    scope: '',
  });
  const issued = { code, verifier: pair?.verifier ?? null, challenge: pair?.challenge ?? null };
  w.codes.push(issued);
  return issued;
}

/** A fresh refresh token of client A, by a code exchange the oracle knows about. */
async function newRefreshToken(w: World): Promise<string> {
  const { code } = await newCode(w, false);
  const res = await w.h.post('/oauth/token', {
    grant_type: 'authorization_code',
    client_id: w.a.clientId,
    client_secret: w.a.clientSecret,
    code,
  });
  assert.equal(res.statusCode, 200, res.body);
  w.usedCodes.add(code);
  const token = res.json().refresh_token as string;
  w.refreshTokens.push(token);
  return token;
}

function newSamlDoc(w: World, kind: number): { xml: string; bare: boolean } {
  const now = w.clock.now();
  const doc =
    kind % 3 === 0
      ? { xml: responseWithSignedAssertion({ now }), bare: false }
      : kind % 3 === 1
        ? { xml: signedResponse({ now }), bare: false }
        : { xml: signedAssertion({ now }), bare: true };
  w.samlDocs.push(doc);
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Requests as data, so that fast-check can shrink them.

type Mutation =
  | { op: 'flip'; at: number; ch: string }
  | { op: 'truncate'; at: number }
  | { op: 'append' | 'prepend'; text: string }
  | { op: 'upper' }
  | { op: 'pad' };

type ValueSpec =
  | { src: 'pool'; pick: number; mutation: Mutation | null }
  | { src: 'text'; text: string }
  | { src: 'huge'; size: number; ch: string }
  | { src: 'empty' };

type Encoding = 'form' | 'percentAll' | 'rawUtf8' | 'double' | 'badPercent' | 'nul';

interface ParamSpec {
  name: string;
  value: ValueSpec;
  where: 'body' | 'query';
  encoding: Encoding;
  repeat: boolean;
}

type AuthMode =
  | 'postA'
  | 'basicA'
  | 'postB'
  | 'basicB'
  | 'queryA'
  | 'wrongSecret'
  | 'unknownClient'
  | 'none'
  | 'basicGarbage'
  | 'basicAndPost'
  | 'idsDiffer'
  | 'basicWrong';
type ContentType = 'form' | 'formCharset' | 'json' | 'text' | 'none';

interface RequestSpec {
  grant: { src: 'known'; pick: number } | ValueSpec | null;
  grantWhere: 'body' | 'query';
  auth: AuthMode;
  params: ParamSpec[];
  contentType: ContentType;
}

const PARAM_NAMES = [
  'email',
  'username',
  'password',
  'code',
  'code_verifier',
  'redirect_uri',
  'refresh_token',
  'SAMLResponse',
  'SAMLAssertion',
  'assertion',
  'endOtherSessions',
  'scope',
  'client_id',
  'client_secret',
  'grant_type',
];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.nat(),
    ch: fc.constantFrom('a', 'Z', '0', '-', '_', '+', '/', '=', ' ', '%', '&', 'é', '\u202e', '😀'),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constantFrom('append' as const, 'prepend' as const), text: fc.string({ maxLength: 4 }) }),
  fc.constant({ op: 'upper' as const }),
  fc.constant({ op: 'pad' as const }),
);

const valueArb: fc.Arbitrary<ValueSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ src: fc.constant('pool' as const), pick: fc.nat(), mutation: fc.constant(null) }) },
  { weight: 4, arbitrary: fc.record({ src: fc.constant('pool' as const), pick: fc.nat(), mutation: mutationArb }) },
  { weight: 2, arbitrary: fc.record({ src: fc.constant('text' as const), text: fc.string({ maxLength: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ src: fc.constant('text' as const), text: fc.string({ unit: 'grapheme', maxLength: 12 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      src: fc.constant('huge' as const),
      size: fc.integer({ min: 1_000, max: 100_000 }),
      ch: fc.constantFrom('a', '%', 'é', '=', '&'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ src: 'empty' as const }) },
);

const encodingArb: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 20, arbitrary: fc.constant('form' as const) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('percentAll' as const, 'rawUtf8' as const, 'double' as const, 'badPercent' as const, 'nul' as const),
  },
);

/** The parameters each grant reads (the fuzzer mostly sends those, sometimes any other). */
const RELEVANT: Readonly<Record<(typeof GRANTS)[number], readonly string[]>> = {
  client_credentials: ['email', 'password', 'endOtherSessions'],
  password: ['username', 'password', 'email', 'endOtherSessions'],
  authorization_code: ['code', 'code_verifier', 'redirect_uri', 'endOtherSessions'],
  refresh_token: ['refresh_token', 'scope'],
  [SEED_SAML]: ['SAMLResponse', 'SAMLAssertion', 'endOtherSessions'],
  [RFC_SAML]: ['assertion', 'SAMLResponse', 'endOtherSessions'],
};

const repeatArb = fc.integer({ min: 0, max: 19 }).map((n) => n === 0);

function paramArb(names: readonly string[]): fc.Arbitrary<ParamSpec> {
  return fc.record({
    name: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...names) },
      { weight: 1, arbitrary: fc.constantFrom(...PARAM_NAMES) },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    ),
    value: valueArb,
    where: fc.constantFrom('body' as const, 'body' as const, 'query' as const),
    encoding: encodingArb,
    repeat: repeatArb,
  });
}

const AUTH_MODES: AuthMode[] = [
  'postA',
  'basicA',
  'postB',
  'basicB',
  'queryA',
  'wrongSecret',
  'unknownClient',
  'none',
  'basicGarbage',
  'basicAndPost',
  'idsDiffer',
  'basicWrong',
];

const requestArb: fc.Arbitrary<RequestSpec> = fc.nat().chain((pick) =>
  fc.record({
    grant: fc.oneof(
      { weight: 8, arbitrary: fc.constant({ src: 'known' as const, pick }) },
      { weight: 2, arbitrary: valueArb },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
    grantWhere: fc.constantFrom('body' as const, 'query' as const),
    auth: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom<AuthMode>('postA', 'basicA') },
      { weight: 4, arbitrary: fc.constantFrom(...AUTH_MODES) },
    ),
    // Mostly distinct names (a repeat is its own, rarer, case: `repeat`).
    params: fc.uniqueArray(paramArb(RELEVANT[GRANTS[pick % GRANTS.length]!]), { maxLength: 5, selector: (p) => p.name }),
    contentType: fc.oneof(
      { weight: 12, arbitrary: fc.constant('form' as const) },
      { weight: 2, arbitrary: fc.constantFrom<ContentType>('formCharset', 'json', 'text', 'none') },
    ),
  }),
);

// ---------------------------------------------------------------------------------------------
// Turning a spec into bytes on the wire.

function pool(w: World, name: string, grant: string | undefined): string[] {
  const alice = w.a;
  switch (name) {
    case 'email':
    case 'username':
      return [alice.email, alice.email.toUpperCase(), ` ${alice.email} `, 'nobody@example.com'];
    case 'password':
      return [alice.password, `${alice.password} `, 'wrong password'];
    case 'code':
      return w.codes.slice(-6).map((c) => c.code);
    case 'code_verifier':
      return [...w.codes.slice(-6).flatMap((c) => (c.verifier ? [c.verifier] : [])), pkcePair().verifier];
    case 'redirect_uri':
      return [CALLBACK, `${CALLBACK}/`, 'https://evil.example/cb'];
    case 'refresh_token':
      return w.refreshTokens.slice(-6);
    case 'SAMLResponse':
    case 'SAMLAssertion':
    case 'assertion':
      return w.samlDocs.slice(-6).flatMap((d) => [b64(d.xml), b64url(d.xml)]);
    case 'endOtherSessions':
      return ['true', 'false', 'TRUE', '1'];
    case 'client_id':
      return [w.a.clientId, w.b.clientId, 'cli_unknown'];
    case 'client_secret':
      return [w.a.clientSecret, w.b.clientSecret, 'scs_wrong'];
    case 'grant_type':
      return [grant ?? 'client_credentials'];
    default:
      return ['x', 'true', alice.email];
  }
}

function mutate(value: string, m: Mutation): string {
  const chars = [...value];
  switch (m.op) {
    case 'flip':
      if (chars.length === 0) return m.ch;
      chars[m.at % chars.length] = m.ch;
      return chars.join('');
    case 'truncate':
      return chars.slice(0, m.at % Math.max(1, chars.length)).join('');
    case 'append':
      return value + m.text;
    case 'prepend':
      return m.text + value;
    case 'upper':
      return value.toUpperCase();
    case 'pad':
      return `${value}=`;
  }
}

function resolve(w: World, name: string, spec: ValueSpec, grant?: string): string {
  switch (spec.src) {
    case 'pool': {
      const values = pool(w, name, grant);
      const value = values.length ? values[spec.pick % values.length]! : '';
      return spec.mutation ? mutate(value, spec.mutation) : value;
    }
    case 'text':
      return spec.text;
    case 'huge':
      return spec.ch.repeat(spec.size);
    case 'empty':
      return '';
  }
}

const formEncode = (s: string) => new URLSearchParams({ v: s }).toString().slice(2);

function encodeValue(value: string, encoding: Encoding, inQuery: boolean): string {
  switch (encoding) {
    case 'form':
      return formEncode(value);
    case 'percentAll':
      return [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    case 'rawUtf8':
      // Raw characters where a URL cannot carry them are percent-encoded anyway.
      return inQuery ? encodeURIComponent(value) : value.replace(/[&=%+]/g, (c) => encodeURIComponent(c));
    case 'double':
      return encodeURIComponent(encodeURIComponent(value));
    case 'badPercent':
      return `${formEncode(value)}%zz`;
    case 'nul':
      return `${formEncode(value)}%00`;
  }
}

interface Wire {
  query: string;
  body: string;
  headers: Record<string, string>;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;

function toWire(w: World, spec: RequestSpec): Wire {
  const query: string[] = [];
  const body: string[] = [];
  const headers: Record<string, string> = {};
  const put = (where: 'body' | 'query', name: string, encoded: string) =>
    (where === 'query' ? query : body).push(`${formEncode(name)}=${encoded}`);

  let grant: string | undefined;
  if (spec.grant !== null) {
    grant =
      spec.grant.src === 'known' ? GRANTS[spec.grant.pick % GRANTS.length]! : resolve(w, 'grant_type', spec.grant, 'client_credentials');
    put(spec.grantWhere, 'grant_type', formEncode(grant));
  }
  const { a, b } = w;
  const post = (where: 'body' | 'query', id: string, secret: string) => {
    put(where, 'client_id', formEncode(id));
    put(where, 'client_secret', formEncode(secret));
  };
  switch (spec.auth) {
    case 'postA':
      post('body', a.clientId, a.clientSecret);
      break;
    case 'queryA':
      post('query', a.clientId, a.clientSecret);
      break;
    case 'postB':
      post('body', b.clientId, b.clientSecret);
      break;
    case 'basicA':
      headers.authorization = basic(a.clientId, a.clientSecret);
      break;
    case 'basicB':
      headers.authorization = basic(b.clientId, b.clientSecret);
      break;
    case 'basicWrong':
      headers.authorization = basic(a.clientId, b.clientSecret);
      break;
    case 'wrongSecret':
      post('body', a.clientId, b.clientSecret);
      break;
    case 'unknownClient':
      post('body', 'cli_unknown', a.clientSecret);
      break;
    case 'basicGarbage':
      headers.authorization = 'Basic !!not base64 at all';
      break;
    case 'basicAndPost':
      headers.authorization = basic(a.clientId, a.clientSecret);
      post('body', a.clientId, a.clientSecret);
      break;
    case 'idsDiffer':
      headers.authorization = basic(a.clientId, a.clientSecret);
      put('body', 'client_id', formEncode(b.clientId));
      break;
    case 'none':
      break;
  }
  for (const p of spec.params) {
    const value = resolve(w, p.name, p.value, grant);
    const encoded = encodeValue(value, p.encoding, p.where === 'query');
    put(p.where, p.name, encoded);
    if (p.repeat) put(p.where === 'body' ? 'query' : 'body', p.name, encoded);
  }
  const types: Record<ContentType, string | undefined> = {
    form: FORM_TYPE,
    formCharset: `${FORM_TYPE}; charset=utf-8`,
    json: 'application/json',
    text: 'text/plain',
    none: undefined,
  };
  const type = types[spec.contentType];
  if (type) headers['content-type'] = type;
  else if (body.length) headers['content-type'] = FORM_TYPE;
  return { query: query.join('&'), body: body.join('&'), headers };
}

// ---------------------------------------------------------------------------------------------
// The oracle.

/** What the server must read from the request, or undefined when it is malformed (a repeat, bad encoding). */
function serverView(wire: Wire): Map<string, string> | undefined {
  const isForm = (wire.headers['content-type'] ?? '').toLowerCase().startsWith(FORM_TYPE);
  let pairs: Array<[string, string]>;
  try {
    pairs = [...parseFormEncoded(wire.query), ...(isForm ? parseFormEncoded(wire.body) : [])];
  } catch {
    return undefined;
  }
  const view = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (value === '') continue;
    if (view.has(name)) return undefined;
    view.set(name, value);
  }
  return view;
}

function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic[ ]+([A-Za-z0-9+/=_-]*)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  try {
    const un = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: un(decoded.slice(0, colon)), secret: un(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** Which valid client the request authenticates as, if any. */
function authenticatedClient(w: World, view: Map<string, string>, wire: Wire): 'A' | 'B' | undefined {
  let creds: { id: string | undefined; secret: string | undefined };
  const header = wire.headers.authorization;
  if (header !== undefined) {
    const parsed = decodeBasic(header);
    if (!parsed || view.has('client_secret')) return undefined;
    if (view.has('client_id') && view.get('client_id') !== parsed.id) return undefined;
    creds = parsed;
  } else {
    creds = { id: view.get('client_id'), secret: view.get('client_secret') };
  }
  if (creds.id === w.a.clientId && creds.secret === w.a.clientSecret) return 'A';
  if (creds.id === w.b.clientId && creds.secret === w.b.clientSecret) return 'B';
  return undefined;
}

/** The ID of the (signed) Assertion inside a document. */
const assertionId = (xml: string): string | undefined => /<saml:Assertion\b[^>]*?\sID="([^"]+)"/.exec(xml)?.[1];

/**
 * The unused pool assertion a parameter carries, by its assertion ID. Not the exact document:
 * what the signature does not cover (the unsigned Response around a signed Assertion, KeyInfo,
 * namespace declarations exclusive canonicalization leaves out) may change without changing
 * whose identity it is, and replay protection is per assertion ID too.
 */
function samlDocOf(w: World, encoded: string | undefined): string | undefined {
  if (encoded === undefined) return undefined;
  const id = assertionId(Buffer.from(encoded.replace(/\s+/g, ''), 'base64').toString('utf8'));
  if (id === undefined || w.usedSamlDocs.has(id)) return undefined;
  return w.samlDocs.some((d) => assertionId(d.xml) === id) ? id : undefined;
}

/** The credential a 200 would spend, or a reason why no 200 is allowed. */
function allowedGrant(w: World, wire: Wire): { spend: () => void } | { deny: string } {
  const view = serverView(wire);
  if (!view) return { deny: 'malformed request' };
  const client = authenticatedClient(w, view, wire);
  if (!client) return { deny: 'no valid client authentication' };
  const eos = view.get('endOtherSessions');
  if (eos !== undefined && eos !== 'true' && eos !== 'false') return { deny: 'bad endOtherSessions' };
  const grant = view.get('grant_type');
  const sameEmail = (e: string | undefined) => e !== undefined && emailKey(e) === emailKey(w.a.email);
  switch (grant) {
    case 'client_credentials':
      return sameEmail(view.get('email')) && view.get('password') === w.a.password
        ? { spend: () => {} }
        : { deny: 'wrong email or password' };
    case 'password':
      return sameEmail(view.get('username')) && view.get('password') === w.a.password
        ? { spend: () => {} }
        : { deny: 'wrong username or password' };
    case 'authorization_code': {
      const issued = w.codes.find((c) => c.code === view.get('code'));
      if (!issued || w.usedCodes.has(issued.code) || client !== 'A') return { deny: 'no unused code of this client' };
      const verifier = view.get('code_verifier');
      if (issued.challenge ? verifier === undefined || !verifierMatches(verifier, issued.challenge) : verifier !== undefined)
        return { deny: 'PKCE' };
      const redirect = view.get('redirect_uri');
      if (redirect !== undefined && redirect !== CALLBACK) return { deny: 'redirect_uri' };
      return { spend: () => w.usedCodes.add(issued.code) };
    }
    case 'refresh_token': {
      const token = view.get('refresh_token');
      if (token === undefined || !w.refreshTokens.includes(token) || w.spentRefreshTokens.has(token) || client !== 'A')
        return { deny: 'no unspent refresh token of this client' };
      return { spend: () => w.spentRefreshTokens.add(token) };
    }
    case SEED_SAML: {
      const response = view.get('SAMLResponse');
      const bare = view.get('SAMLAssertion');
      if ((response === undefined) === (bare === undefined)) return { deny: 'exactly one SAML parameter' };
      const id = samlDocOf(w, response ?? bare);
      return id ? { spend: () => w.usedSamlDocs.add(id) } : { deny: 'no unused signed SAML assertion' };
    }
    case RFC_SAML: {
      const id = samlDocOf(w, view.get('assertion'));
      return id ? { spend: () => w.usedSamlDocs.add(id) } : { deny: 'no unused signed SAML assertion' };
    }
    default:
      return { deny: 'unsupported grant' };
  }
}

async function send(w: World, wire: Wire): Promise<LightMyRequestResponse> {
  return w.h.app.inject({
    method: 'POST',
    url: wire.query ? `/oauth/token?${wire.query}` : '/oauth/token',
    payload: wire.body,
    headers: wire.headers,
  });
}

/** The properties every answer must have; spends the credential of a 200. */
function check(w: World, wire: Wire, res: LightMyRequestResponse): void {
  const describe = () =>
    `${res.statusCode} ${res.body.slice(0, 200)} for ${JSON.stringify({ ...wire, body: wire.body.slice(0, 300), query: wire.query.slice(0, 300) })}`;
  assert.ok(res.statusCode < 500, `never a 5xx: ${describe()}`);
  assert.match(String(res.headers['content-type']), /^application\/json/, describe());
  assert.equal(res.headers['cache-control'], 'no-store');
  const body = res.json() as Record<string, unknown>;
  const verdict = allowedGrant(w, wire);
  if (res.statusCode === 200) {
    assert.ok('spend' in verdict, `a token without valid credentials (${'deny' in verdict ? verdict.deny : ''}): ${describe()}`);
    verdict.spend();
    assert.match(String(body.access_token), /^sat_/);
    assert.equal(body.email, w.a.email, 'the token is for the user the credentials name');
    if (typeof body.refresh_token === 'string') w.refreshTokens.push(body.refresh_token);
    w.tokensIssued++;
  } else {
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], describe());
    assert.equal(body.access_token, undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations of valid requests.

type Edit =
  | { op: 'drop' | 'duplicate' | 'move'; index: number }
  | { op: 'mutate'; index: number; mutation: Mutation }
  | { op: 'encode'; index: number; encoding: Encoding }
  | { op: 'junk'; name: string; value: string }
  | { op: 'contentType'; type: ContentType }
  | { op: 'toBasic' }
  | { op: 'swapClient' };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constantFrom('drop' as const, 'duplicate' as const, 'move' as const), index: fc.nat() }),
  fc.record({ op: fc.constant('mutate' as const), index: fc.nat(), mutation: mutationArb }),
  fc.record({ op: fc.constant('encode' as const), index: fc.nat(), encoding: encodingArb }),
  fc.record({
    op: fc.constant('junk' as const),
    name: fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string({ maxLength: 8 })),
    value: fc.string({ maxLength: 20 }),
  }),
  fc.record({ op: fc.constant('contentType' as const), type: fc.constantFrom<ContentType>('form', 'formCharset', 'json', 'text', 'none') }),
  fc.constant({ op: 'toBasic' as const }),
  fc.constant({ op: 'swapClient' as const }),
);

interface Field {
  name: string;
  value: string;
  where: 'body' | 'query';
  encoding: Encoding;
}

async function validTemplate(w: World, kind: number): Promise<Field[]> {
  const f = (name: string, value: string): Field => ({ name, value, where: 'body', encoding: 'form' });
  const client = [f('client_id', w.a.clientId), f('client_secret', w.a.clientSecret)];
  switch (kind % 7) {
    case 0:
      return [f('grant_type', 'client_credentials'), ...client, f('email', w.a.email), f('password', w.a.password)];
    case 1: {
      const { code, verifier } = await newCode(w, true);
      return [
        f('grant_type', 'authorization_code'),
        ...client,
        f('code', code),
        f('code_verifier', verifier!),
        f('redirect_uri', CALLBACK),
      ];
    }
    case 2:
      return [f('grant_type', 'authorization_code'), ...client, f('code', (await newCode(w, false)).code)];
    case 3:
      return [f('grant_type', 'refresh_token'), ...client, f('refresh_token', await newRefreshToken(w))];
    case 4:
      return [f('grant_type', SEED_SAML), ...client, f('SAMLResponse', b64(newSamlDoc(w, 0).xml))];
    case 5:
      return [f('grant_type', SEED_SAML), ...client, f('SAMLAssertion', b64(newSamlDoc(w, 2).xml))];
    default:
      return [f('grant_type', RFC_SAML), ...client, f('assertion', b64url(newSamlDoc(w, 2).xml))];
  }
}

function applyEdits(w: World, fields: Field[], edits: Edit[]): Wire {
  let type: ContentType = 'form';
  let basicAuth: string | undefined;
  const list = [...fields];
  const at = (i: number) => (list.length ? i % list.length : -1);
  for (const e of edits) {
    switch (e.op) {
      case 'drop':
        if (list.length) list.splice(at(e.index), 1);
        break;
      case 'duplicate':
        if (list.length) list.push({ ...list[at(e.index)]! });
        break;
      case 'move':
        if (list.length) list[at(e.index)]!.where = list[at(e.index)]!.where === 'body' ? 'query' : 'body';
        break;
      case 'mutate':
        if (list.length) list[at(e.index)]!.value = mutate(list[at(e.index)]!.value, e.mutation);
        break;
      case 'encode':
        if (list.length) list[at(e.index)]!.encoding = e.encoding;
        break;
      case 'junk':
        list.push({ name: e.name, value: e.value, where: 'body', encoding: 'form' });
        break;
      case 'contentType':
        type = e.type;
        break;
      case 'toBasic': {
        const id = list.find((x) => x.name === 'client_id')?.value ?? w.a.clientId;
        const secret = list.find((x) => x.name === 'client_secret')?.value ?? w.a.clientSecret;
        for (let i = list.length - 1; i >= 0; i--)
          if (list[i]!.name === 'client_id' || list[i]!.name === 'client_secret') list.splice(i, 1);
        basicAuth = basic(id, secret);
        break;
      }
      case 'swapClient':
        for (const x of list) {
          if (x.name === 'client_id') x.value = w.b.clientId;
          if (x.name === 'client_secret') x.value = w.b.clientSecret;
        }
        break;
    }
  }
  const query = list.filter((x) => x.where === 'query').map((x) => `${formEncode(x.name)}=${encodeValue(x.value, x.encoding, true)}`);
  const body = list.filter((x) => x.where === 'body').map((x) => `${formEncode(x.name)}=${encodeValue(x.value, x.encoding, false)}`);
  const headers: Record<string, string> = {};
  const types: Record<ContentType, string | undefined> = {
    form: FORM_TYPE,
    formCharset: `${FORM_TYPE}; charset=utf-8`,
    json: 'application/json',
    text: 'text/plain',
    none: undefined,
  };
  if (types[type]) headers['content-type'] = types[type]!;
  if (basicAuth) headers.authorization = basicAuth;
  return { query: query.join('&'), body: body.join('&'), headers };
}

// ---------------------------------------------------------------------------------------------

for (const kind of storeKinds()) {
  describe(`fuzzing POST /oauth/token [${kind}]`, () => {
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    let w: World;
    before(async () => {
      const h = await createHarness({
        kind,
        clock,
        issuer: DEFAULT_AUDIENCE,
        // Throttling and rate limits have their own tests; here they would only hide the grants.
        throttle: { accountMaxFailures: 100_000, ipMaxFailures: 100_000 },
        rateLimits: { perIp: 0, perClient: 0 },
      });
      await new IdpService({ store: h.store, clock }).create({
        entityId: 'https://idp.test.example/saml',
        certPem: (await import('../support/test-idp.ts')).testIdp().certPem,
      });
      const a = await h.seed({
        email: 'alice@example.com',
        password: 'correct horse battery staple',
        client: { refreshTokens: true, redirectUrls: [CALLBACK] },
      });
      const other = await h.services.clients.createClient({ name: 'Client B', redirectUrls: [CALLBACK] });
      w = {
        h,
        clock,
        a,
        b: { clientId: other.client_id, clientSecret: other.client_secret },
        codes: [],
        usedCodes: new Set(),
        refreshTokens: [],
        spentRefreshTokens: new Set(),
        samlDocs: [],
        usedSamlDocs: new Set(),
        tokensIssued: 0,
      };
      for (let i = 0; i < 3; i++) await newRefreshToken(w);
      for (let i = 0; i < 6; i++) newSamlDoc(w, i);
    });
    after(async () => w?.h.close());

    test('random requests: never a 5xx, never a token without valid credentials for the grant', async () => {
      await fc.assert(
        fc.asyncProperty(requestArb, async (spec) => {
          // Keep fresh codes and SAML documents among the values the fuzzer draws from.
          if (w.codes.length - w.usedCodes.size < 3) {
            await newCode(w, true);
            await newCode(w, false);
          }
          if (w.samlDocs.length - w.usedSamlDocs.size < 3) newSamlDoc(w, w.samlDocs.length);
          const wire = toWire(w, spec);
          check(w, wire, await send(w, wire));
        }),
        { numRuns: 300 },
      );
      // Whether random draws happened to be valid varies run to run; the next test feeds valid
      // requests on purpose, so coverage of the success path does not rest on chance here.
    });

    test('mutated valid requests of every grant: never a 5xx, never a token unless the mutation kept the credentials valid', async () => {
      let issued = 0;
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.array(editArb, { minLength: 0, maxLength: 3 }), async (template, edits) => {
          const fields = await validTemplate(w, template);
          const wire = applyEdits(w, fields, edits);
          const before = w.tokensIssued;
          check(w, wire, await send(w, wire));
          if (w.tokensIssued > before) issued++;
        }),
        { numRuns: 150 },
      );
      assert.ok(issued > 0, 'some mutations are harmless and still log in');
    });

    test('the server is still up and serving after the fuzzing', async () => {
      assert.equal((await w.h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      assert.equal((await w.h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      const res = await w.h.post('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: w.a.clientId,
        client_secret: w.a.clientSecret,
        email: w.a.email,
        password: w.a.password,
      });
      assert.equal(res.statusCode, 200, res.body);
      const introspected = await w.h.post('/oauth/introspect', {
        client_id: w.a.clientId,
        client_secret: w.a.clientSecret,
        token: res.json().access_token,
      });
      assert.equal(introspected.json().active, true);
    });
  });
}
