/**
 * RFC 8707 §2: a resource indicator (and so an audience) "MUST be an absolute URI" and "MUST NOT
 * include a fragment component".
 */
export function isAudienceUri(value: string): boolean {
  // RFC 3986 URIs are printable ASCII without spaces; anything else (a Unicode IRI, a control character) is refused.
  if (value.length > 2000 || !/^[\x21-\x7e]+$/.test(value) || value.includes('#')) return false;
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}
