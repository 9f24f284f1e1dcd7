/**
 * RFC 8707 §2: a resource indicator (and so an audience) "MUST be an absolute URI" and "MUST NOT
 * include a fragment component".
 */
export function isAudienceUri(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused here
  if (value.length === 0 || value.length > 2000 || /[\s\u0000-\u001f]/.test(value) || value.includes('#')) return false;
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}
