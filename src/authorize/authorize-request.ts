import { OAuthError } from '../common/oauth-error.ts';
import type { RequestParams } from '../common/request-params.ts';
import { grantedScope } from '../common/scope.ts';
import type { Client, StoreOps } from '../store/store.ts';
import { isValidS256Challenge, PKCE_METHOD } from './pkce.ts';

/**
 * Validation of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3), shared by the login
 * page (GET) and its form submit (POST, which re-validates everything). It decides where an
 * error may go; it renders nothing.
 */

/** The authorize parameters the login form carries from the GET to the POST, as they were sent. */
export const AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'code_challenge',
  'code_challenge_method',
  'response_mode',
  'scope',
  'nonce',
  'prompt',
  'max_age',
] as const;

/** OpenID Connect Core §3.1.2.1: the prompt values; `none` stands alone. */
const PROMPT_VALUES = new Set(['none', 'login', 'consent', 'select_account']);

/** Longer than any nonce a relying party sends (openid-client: 43 characters), short enough to store. */
const MAX_NONCE_LENGTH = 512;

export interface AuthorizeRequest {
  client: Client;
  redirectUri: string;
  redirectUriGiven: boolean;
  state: string | undefined;
  codeChallenge: string | null;
  /** contract §5: the scope the user is asked to grant, space-separated ('' for none) */
  scope: string;
  /** OpenID Connect Core §3.1.2.1: returned unmodified in the ID token */
  nonce: string | null;
  /** OpenID Connect Core §3.1.2.1: what the user must (not) be shown */
  prompt: ReadonlySet<string>;
  /** OpenID Connect Core §3.1.2.1: seconds since the last authentication beyond which the user signs in again */
  maxAge: number | null;
}

export type AuthorizeCheck =
  | { kind: 'ok'; request: AuthorizeRequest }
  /** The client or redirect URI is not verified: tell the user, never redirect. */
  | { kind: 'page'; error: OAuthError }
  /** The client and redirect URI are verified: send the error back to the client. */
  | { kind: 'redirect'; redirectUri: string; state: string | undefined; error: OAuthError };

export async function checkAuthorizeRequest(store: StoreOps, params: RequestParams): Promise<AuthorizeCheck> {
  const page = (description: string): AuthorizeCheck => ({ kind: 'page', error: new OAuthError('invalid_request', description) });

  const clientId = params.get('client_id');
  if (clientId === undefined) return page('The request does not name a client (client_id is missing).');
  // An id no client can have (over-long, or with a NUL, which PostgreSQL refuses in text) is not looked up.
  const client = clientId.length <= 200 && !clientId.includes('\u0000') ? await store.clients.find(clientId) : undefined;
  // RFC 6749 §4.1.2.1: with a missing, invalid or mismatching client or redirect URI the server
  // "SHOULD inform the resource owner of the error and MUST NOT automatically redirect".
  if (!client || client.disabled) return page('The application that sent you here is not registered.');

  const given = params.get('redirect_uri');
  let redirectUri: string;
  if (given !== undefined) {
    // RFC 9700 §2.1: servers "MUST utilize exact string matching" of redirect URIs.
    if (!client.redirectUrls.includes(given)) return page('The return address (redirect_uri) is not registered for this application.');
    redirectUri = given;
  } else {
    // RFC 6749 §3.1.2.3: with several registered URIs the request MUST name one.
    if (client.redirectUrls.length !== 1)
      return page('The request must name its return address (redirect_uri): this application has several.');
    redirectUri = client.redirectUrls[0]!;
  }

  const state = params.get('state');
  const redirect = (
    code: 'invalid_request' | 'unsupported_response_type' | 'invalid_scope' | 'login_required',
    description: string,
  ): AuthorizeCheck => ({
    kind: 'redirect',
    redirectUri,
    state,
    error: new OAuthError(code, description),
  });

  const responseType = params.get('response_type');
  // RFC 6749 §4.1.1: response_type is REQUIRED.
  if (responseType === undefined) return redirect('invalid_request', 'response_type is required.');
  // Only the code flow: the implicit `token` (and anything else) never yields a token here (RFC 9700 §2.1.2).
  if (responseType !== 'code') return redirect('unsupported_response_type', 'Only response_type=code is supported.');
  const responseMode = params.get('response_mode');
  if (responseMode !== undefined && responseMode !== 'query') return redirect('invalid_request', 'Only response_mode=query is supported.');

  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (challenge === undefined) {
    if (method !== undefined) return redirect('invalid_request', 'code_challenge_method was given without code_challenge.');
    // RFC 9700 §2.1.1: PKCE is the defence against code injection; clients require it unless created with --allow-no-pkce.
    if (client.requirePkce) return redirect('invalid_request', 'code_challenge is required (PKCE, S256).');
  } else {
    // RFC 7636 §4.3 makes a missing method mean plain; RFC 9700 §2.1.1: use S256, not plain.
    if (method !== PKCE_METHOD) return redirect('invalid_request', 'code_challenge_method must be S256.');
    if (!isValidS256Challenge(challenge)) return redirect('invalid_request', 'code_challenge is not a valid S256 challenge.');
  }

  let scope: string;
  try {
    // OpenID Connect Core §3.1.2.1: a request is an OpenID Connect request only when it asks for
    // `openid` itself; the default (all the client's scopes) never makes it one.
    const requested = params.get('scope');
    const allowed = requested === undefined ? client.scopes.filter((s) => s !== 'openid') : client.scopes;
    scope = grantedScope(requested, allowed.join(' '));
  } catch (error) {
    // Contract §5: on the authorize request, a redirect with error=invalid_scope (RFC 6749 §4.1.2.1).
    if (error instanceof OAuthError) return redirect('invalid_scope', error.description);
    throw error;
  }

  const nonce = params.get('nonce');
  if (nonce !== undefined && (nonce.length > MAX_NONCE_LENGTH || nonce === ''))
    return redirect('invalid_request', `nonce must be 1 to ${MAX_NONCE_LENGTH} characters.`);
  const promptValue = params.get('prompt');
  const prompt = new Set(promptValue === undefined ? [] : promptValue.split(' '));
  for (const value of prompt)
    if (!PROMPT_VALUES.has(value)) return redirect('invalid_request', `prompt value "${value}" is not supported.`);
  // Core §3.1.2.1: "If this parameter contains none with any other value, an error is returned."
  if (prompt.has('none') && prompt.size > 1) return redirect('invalid_request', 'prompt=none cannot be combined with other values.');
  const maxAgeValue = params.get('max_age');
  if (maxAgeValue !== undefined && !/^\d{1,9}$/.test(maxAgeValue))
    return redirect('invalid_request', 'max_age must be a whole number of seconds.');

  return {
    kind: 'ok',
    request: {
      client,
      redirectUri,
      redirectUriGiven: given !== undefined,
      state,
      codeChallenge: challenge ?? null,
      scope,
      nonce: nonce ?? null,
      prompt,
      maxAge: maxAgeValue === undefined ? null : Number(maxAgeValue),
    },
  };
}

/**
 * The client's redirect URI with response parameters added. RFC 6749 §3.1.2: the query
 * component of the registered URI "MUST be retained when adding additional query parameters".
 */
export function redirectWith(redirectUri: string, values: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) query.append(name, value);
  const added = query.toString();
  if (added === '') return redirectUri;
  return redirectUri + (redirectUri.includes('?') ? '&' : '?') + added;
}
