import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Sealing a value with a key derived from a bearer secret that the server stores only as a hash
 * (a rotated refresh token): whoever presents that secret again can open it, the database alone
 * cannot. AES-256-GCM (authenticated: a tampered or foreign box fails to open) under
 * HKDF-SHA256(secret). The secret is 256 random bits, so a fixed salt loses nothing; the info
 * string separates this use from any other key ever derived from the same secret.
 */
const SALT = Buffer.from('sei-auth token sealing v1', 'utf8');
const INFO = 'refresh-token successor, aes-256-gcm';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `info` separates the uses of one secret's keys (RFC 5869 §3.2); each use names its own. */
function keyFor(secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, Buffer.from(info, 'utf8'), 32));
}

/** `v1.<iv>.<ciphertext+tag>`, base64url; a fresh random IV every time. */
export function sealWithSecret(secret: string, plaintext: string, info: string = INFO): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret, info), iv, { authTagLength: TAG_BYTES });
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** The plaintext, or undefined when the box is malformed, tampered with, or sealed with another secret. */
export function openWithSecret(secret: string, sealed: string, info: string = INFO): string | undefined {
  const [version, ivText, bodyText, extra] = sealed.split('.');
  if (version !== VERSION || ivText === undefined || bodyText === undefined || extra !== undefined) return undefined;
  const iv = Buffer.from(ivText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(secret, info), iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    // GCM's tag check failed: not sealed with this secret, or altered.
    return undefined;
  }
}
