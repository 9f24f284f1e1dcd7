/**
 * The value of the first cookie called `name` in a Cookie header, trimmed; undefined when there is
 * none. The first only: a browser sends the most specific path first (RFC 6265 §5.4), and a second
 * one of the same name is a cookie this server did not set where it reads it.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
