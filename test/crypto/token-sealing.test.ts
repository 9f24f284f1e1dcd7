/**
 * src/crypto/token-sealing.ts: a value sealed with a key derived from a bearer secret opens only
 * with that secret, and never after tampering.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newSecret } from '../../src/crypto/secrets.ts';
import { openWithSecret, sealWithSecret } from '../../src/crypto/token-sealing.ts';

describe('token sealing (AES-256-GCM under HKDF-SHA256 of the secret)', () => {
  const secret = newSecret('refresh_token');
  const plaintext = JSON.stringify({ a: newSecret('access_token'), ae: 1_767_225_600_000, r: newSecret('refresh_token') });

  test('opens with the secret it was sealed with, and shows nothing of the plaintext or the secret', () => {
    const sealed = sealWithSecret(secret, plaintext);
    assert.equal(openWithSecret(secret, sealed), plaintext);
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    for (const part of [secret, secret.slice(4), 'sat_', 'srt_', '1767225600000']) assert.equal(sealed.includes(part), false, part);
  });

  test('a fresh IV each time: sealing the same value twice gives two different boxes', () => {
    const one = sealWithSecret(secret, plaintext);
    const two = sealWithSecret(secret, plaintext);
    assert.notEqual(one, two);
    assert.equal(openWithSecret(secret, two), plaintext);
  });

  test('another secret, even one character off, cannot open it', () => {
    const sealed = sealWithSecret(secret, plaintext);
    assert.equal(openWithSecret(newSecret('refresh_token'), sealed), undefined);
    const last = secret.at(-1) === 'A' ? 'B' : 'A';
    assert.equal(openWithSecret(secret.slice(0, -1) + last, sealed), undefined);
  });

  test('any altered byte, a truncated box or a malformed one is refused, never thrown', () => {
    const sealed = sealWithSecret(secret, plaintext);
    const [version, iv, body] = sealed.split('.') as [string, string, string];
    const flip = (text: string, i: number) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[i] = bytes[i]! ^ 1;
      return bytes.toString('base64url');
    };
    const bodyLength = Buffer.from(body, 'base64url').length;
    for (let i = 0; i < bodyLength; i += 7)
      assert.equal(openWithSecret(secret, `${version}.${iv}.${flip(body, i)}`), undefined, `body byte ${i}`);
    assert.equal(openWithSecret(secret, `${version}.${iv}.${flip(body, bodyLength - 1)}`), undefined, 'the tag');
    assert.equal(openWithSecret(secret, `${version}.${flip(iv, 0)}.${body}`), undefined, 'the IV');
    for (const bad of [
      '',
      'v1',
      'v1..',
      `v2.${iv}.${body}`,
      `${version}.${iv}`,
      `${version}.${iv}.${body}.x`,
      `${version}.${iv}.AAAA`,
      'v1.%%%.%%%',
    ]) {
      assert.equal(openWithSecret(secret, bad), undefined, JSON.stringify(bad));
    }
  });
});
