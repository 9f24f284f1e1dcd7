import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Store } from '../store/store.ts';
import type { KeyEncryptionKey } from './key-encryption-key.ts';
import { openPrivateJwk, sealPrivateJwk } from './key-sealing.ts';
import { makeSelfSignedCredential } from './self-signed-certificate.ts';

/**
 * The SAML service provider's signing key (AuthnRequests to IdPs that want them signed) and its
 * self-signed certificate, published in SP metadata. One per deployment, made on first use and
 * kept in `server_secrets`: the certificate PEM in clear, the private key sealed with the
 * key-encryption key exactly as the JWT signing keys are (key-sealing.ts). Rotation is not
 * supported yet: the first key stays.
 */
export const SP_SIGNING_SECRET = 'saml_sp_signing_key';

export interface SpSigningCredential {
  certificatePem: string;
  privateKey: KeyObject;
}

interface StoredCredential {
  certificate: string;
  private_key_sealed: string;
}

export class SpSigningKey {
  private readonly deps: { store: Store; clock: Clock; issuer: string; keyEncryptionKey: () => KeyEncryptionKey };
  private cached: Promise<SpSigningCredential> | undefined;

  constructor(deps: { store: Store; clock: Clock; issuer: string; keyEncryptionKey: () => KeyEncryptionKey }) {
    this.deps = deps;
  }

  /** The credential, created on the first call of the first process that needs it. */
  get(): Promise<SpSigningCredential> {
    this.cached ??= this.load().catch((error: unknown) => {
      // A failure (store down, KEK missing) is not remembered: the next request tries again.
      this.cached = undefined;
      throw error;
    });
    return this.cached;
  }

  /** The certificate when the key exists already; never creates one. */
  async existingCertificate(): Promise<string | undefined> {
    const raw = await this.deps.store.serverSecrets.find(SP_SIGNING_SECRET);
    return raw === undefined ? undefined : (JSON.parse(raw) as StoredCredential).certificate;
  }

  private async load(): Promise<SpSigningCredential> {
    const { store, clock } = this.deps;
    const kek = this.deps.keyEncryptionKey();
    let raw = await store.serverSecrets.find(SP_SIGNING_SECRET);
    if (raw === undefined) {
      const made = await makeSelfSignedCredential({ commonName: commonName(this.deps.issuer), now: clock.now() });
      const stored: StoredCredential = {
        certificate: made.certificatePem,
        private_key_sealed: sealPrivateJwk(kek, SP_SIGNING_SECRET, made.privateKeyPem),
      };
      // Several instances may get here at once: the insert is first-wins (ON CONFLICT DO NOTHING),
      // and every one of them then uses the row that won, never its own.
      await store.serverSecrets.create(SP_SIGNING_SECRET, JSON.stringify(stored), clock.now());
      raw = await store.serverSecrets.find(SP_SIGNING_SECRET);
      if (raw === undefined) throw new Error('the SAML SP signing key was stored but cannot be read back');
    }
    const stored = JSON.parse(raw) as StoredCredential;
    const privateKey = createPrivateKey(openPrivateJwk(kek, SP_SIGNING_SECRET, stored.private_key_sealed));
    // A row whose key and certificate disagree would sign requests no IdP can verify: fail loudly.
    if (!new X509Certificate(stored.certificate).checkPrivateKey(privateKey)) {
      throw new Error(`the ${SP_SIGNING_SECRET} certificate does not match its private key`);
    }
    return { certificatePem: stored.certificate, privateKey };
  }
}

/** The certificate's subject CN: the issuer's host (at most 64 characters, RFC 5280 ub-common-name). */
function commonName(issuer: string): string {
  let host: string;
  try {
    host = new URL(issuer).host;
  } catch {
    host = issuer;
  }
  return `sei-auth SAML SP ${host}`.slice(0, 64);
}
