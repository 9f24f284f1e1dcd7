import { reject } from './reject.ts';

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;
const LINE_BREAKS = /[\r\n\t ]+/g;
/** Room for MIME-style line wrapping (76 columns + CRLF is ~3 %) before the exact size check. */
const WRAPPING_ALLOWANCE = 1.25;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Turns the raw form parameter into XML text.
 *
 * SAMLResponse (saml-bindings §3.5.4) is base64, possibly line-wrapped; the RFC 7522 §2.1
 * `assertion` parameter is base64url without padding. Both are accepted, but a value must use one
 * alphabet throughout: Node's own decoder silently skips foreign characters, which would let two
 * different parameter values verify as the same document.
 *
 * The size is bounded from the encoded length first, so an oversized value is refused without
 * allocating its decoded form.
 */
export function decodeSamlParameter(encoded: unknown, maxBytes: number): string {
  if (typeof encoded !== 'string' || encoded.length === 0) throw reject('malformed_encoding');
  if (encoded.length > Math.ceil(maxBytes / 3) * 4 * WRAPPING_ALLOWANCE + 8) throw reject('too_large');

  const compact = encoded.replace(LINE_BREAKS, '');
  if (compact.length === 0 || compact.length % 4 === 1) throw reject('malformed_encoding');
  const urlSafe = !STANDARD.test(compact);
  if (urlSafe && !URL_SAFE.test(compact)) throw reject('malformed_encoding');

  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  if (padding > 0 && compact.length % 4 !== 0) throw reject('malformed_encoding');
  const decodedLength = Math.floor((compact.length * 3) / 4) - padding;
  if (decodedLength > maxBytes) throw reject('too_large');
  if (decodedLength === 0) throw reject('malformed_encoding');

  const bytes = Buffer.from(compact, urlSafe ? 'base64url' : 'base64');

  // XML 1.0 §4.3.3: without an encoding declaration the document is UTF-8 (or UTF-16 with a BOM).
  // Only UTF-8 is accepted, strictly: the DTD scan that follows must see the characters the XML
  // parser will see, which an undetected UTF-16 or a lossy decode would defeat.
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw reject('not_xml');
  }
  if (text.includes('\u0000')) throw reject('not_xml');
  return text;
}
