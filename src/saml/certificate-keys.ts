import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';

/**
 * Public keys of registered certificates, parsed once. Verifying with a PEM string makes Node
 * re-parse the X.509 structure on every call (~0.3 ms, about 9x the RSA-2048 verification
 * itself). Bounded: the registry is small, but nothing here should grow with traffic.
 */
const MAX_CACHED_KEYS = 256;
const keys = new Map<string, KeyObject | null>();

/** The certificate's public key, or `null` if the PEM is not a usable X.509 certificate. */
export function publicKeyOf(certificatePem: string): KeyObject | null {
  const cached = keys.get(certificatePem);
  if (cached !== undefined) return cached;
  let key: KeyObject | null;
  try {
    key = createPublicKey(certificatePem);
  } catch {
    key = null;
  }
  if (keys.size >= MAX_CACHED_KEYS) {
    const oldest = keys.keys().next().value;
    if (oldest !== undefined) keys.delete(oldest);
  }
  keys.set(certificatePem, key);
  return key;
}

/**
 * Which certificate of a registered set verified last. During a key rollover both certificates
 * are registered and one of them signs everything; trying it first saves a full failed xml-crypto
 * pass per login. Only an ordering preference: every candidate is still verified the same way.
 */
const lastSigner = new Map<string, string>();

function setKey(certificates: readonly string[]): string {
  return certificates.join('\n');
}

export function preferredSigner(certificates: readonly string[]): string | undefined {
  return certificates.length < 2 ? undefined : lastSigner.get(setKey(certificates));
}

export function rememberSigner(certificates: readonly string[], signer: string): void {
  if (certificates.length < 2) return;
  const key = setKey(certificates);
  if (lastSigner.get(key) === signer) return;
  if (lastSigner.size >= MAX_CACHED_KEYS) {
    const oldest = lastSigner.keys().next().value;
    if (oldest !== undefined) lastSigner.delete(oldest);
  }
  lastSigner.set(key, signer);
}

/** The base64 body of a PEM certificate, whitespace removed (for comparing with KeyInfo text). */
export function certificateBody(certificatePem: string): string {
  return certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}
