import { OAuthError } from './oauth-error.ts';

/**
 * Request parameters from the query string and the form body together (contract §3: "from the
 * query string, the form body, or both"). Strict where a lenient parser would hide mistakes:
 * a name given twice anywhere is refused, and malformed percent-encoding is refused instead of
 * being passed through.
 */
export class RequestParams {
  private readonly values = new Map<string, string>();
  private readonly inQuery = new Set<string>();

  /** @throws OAuthError invalid_request on a repeated parameter or bad encoding */
  static from(query: string, body: string): RequestParams {
    const params = new RequestParams();
    params.add(parseFormEncoded(query), true);
    params.add(parseFormEncoded(body), false);
    return params;
  }

  private add(pairs: Array<[string, string]>, fromQuery: boolean): void {
    for (const [name, value] of pairs) {
      // RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted
      // from the request", so an empty one is neither a value nor a repeat of another.
      if (value === '') continue;
      // RFC 6749 §3.1 / §3.2: "Request and response parameters MUST NOT be included more than once."
      if (this.values.has(name)) {
        throw new OAuthError('invalid_request', `${describeName(name)} is given more than once.`);
      }
      this.values.set(name, value);
      if (fromQuery) this.inQuery.add(name);
    }
  }

  /**
   * The value, or undefined when absent. RFC 6749 §3.1: "Parameters sent without a value MUST be
   * treated as if they were omitted from the request."
   */
  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** Like get(), but a missing value is an invalid_request naming the parameter. */
  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw new OAuthError('invalid_request', `The parameter ${name} is required.`);
    return value;
  }

  fromQuery(name: string): boolean {
    return this.inQuery.has(name);
  }

  names(): string[] {
    return [...this.values.keys()];
  }
}

/**
 * Parameter names the endpoints know. Only these are quoted in an error description: any other
 * name is request input like a value (a client that forgets "token=" sends the token itself as
 * a name), and descriptions never echo input.
 */
const KNOWN_NAMES: ReadonlySet<string> = new Set([
  'grant_type',
  'client_id',
  'client_secret',
  'email',
  'username',
  'password',
  'endOtherSessions',
  'refresh_token',
  'code',
  'redirect_uri',
  'code_verifier',
  'token',
  'token_type_hint',
  'SAMLResponse',
  'SAMLAssertion',
  'assertion',
  'scope',
  'state',
  'response_type',
  'code_challenge',
  'code_challenge_method',
  'client_assertion',
  'client_assertion_type',
]);

function describeName(name: string): string {
  return KNOWN_NAMES.has(name) ? `The parameter ${name}` : 'A parameter';
}

/** application/x-www-form-urlencoded, strictly: bad percent-encoding is an error. */
export function parseFormEncoded(text: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (text === '') return pairs;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([decode(rawName), decode(rawValue)]);
  }
  return pairs;
}

function decode(text: string): string {
  const plus = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  let decoded = plus;
  if (plus.includes('%')) {
    try {
      decoded = decodeURIComponent(plus);
    } catch {
      throw new OAuthError('invalid_request', 'The request has malformed percent-encoding.');
    }
  }
  // No parameter of any endpoint can hold a NUL, and PostgreSQL refuses one in text (a 500 otherwise).
  if (decoded.includes('\u0000')) throw new OAuthError('invalid_request', 'The request contains a NUL character.');
  return decoded;
}

/** The raw query string of a request URL (without the '?'). */
export function rawQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}
