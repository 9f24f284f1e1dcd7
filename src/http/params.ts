import { OAuthError } from '../errors/oauth-error.ts';

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
      // RFC 6749 §3.1 / §3.2: "Request and response parameters MUST NOT be included more than once."
      if (this.values.has(name)) {
        throw new OAuthError('invalid_request', `The parameter ${describeName(name)} is given more than once.`);
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
    const value = this.values.get(name);
    return value === '' ? undefined : value;
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

/** Parameter names are echoed only when they are plain, short identifiers. */
function describeName(name: string): string {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(name) ? name : '(unnamed)';
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
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    throw new OAuthError('invalid_request', 'The request has malformed percent-encoding.');
  }
}

/** The raw query string of a request URL (without the '?'). */
export function rawQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}
