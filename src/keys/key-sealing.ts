import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type KeyEncryptionKey, KeyEncryptionKeyError } from './key-encryption-key.ts';

/**
 * Sealing a private JWK under the key-encryption key: AES-256-GCM, a random 96-bit IV per seal
 * (NIST SP 800-38D §8.2.2), the kid as additional authenticated data so that a sealed key copied
 * onto another row does not open.
 */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `v1.<iv>.<ciphertext>.<tag>`, base64url. */
export function sealPrivateJwk(kek: KeyEncryptionKey, kid: string, jwkJson: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const body = Buffer.concat([cipher.update(jwkJson, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/**
 * The private JWK's JSON.
 * @throws KeyEncryptionKeyError (one line, never the key) when it does not open with this KEK
 */
export function openPrivateJwk(kek: KeyEncryptionKey, kid: string, sealed: string): string {
  const fail = (why: string) =>
    new KeyEncryptionKeyError(`KEY_ENCRYPTION_KEY does not decrypt signing key ${kid}: ${why} (key-encryption key from ${kek.source})`);
  const [version, ivText, bodyText, tagText, extra] = sealed.split('.');
  if (version !== VERSION || ivText === undefined || bodyText === undefined || tagText === undefined || extra !== undefined) {
    throw fail('the sealed key is malformed');
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw fail('the sealed key is malformed');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(bodyText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // GCM's tag check failed: another KEK sealed it, or the row was altered.
    throw fail('it was sealed with another key-encryption key, or altered');
  }
}
