import { randomBytes, webcrypto } from 'node:crypto';

/**
 * A fresh RSA 2048 key pair and a self-signed X.509 certificate for it (SHA-256 with RSA): the SAML
 * service provider's signing credential. The certificate is only a carrier for the public key in
 * SP metadata (saml-metadata §2.4.1.1, KeyDescriptor); IdPs pin it, nobody walks a chain to it.
 * The certificate is made by @peculiar/x509 (maintained, DER/ASN.1 done by @peculiar/asn1-*),
 * never assembled by hand here.
 */
export interface SelfSignedCredential {
  certificatePem: string;
  /** PKCS#8 PEM */
  privateKeyPem: string;
}

/** Ten years: rotation of the SP key is not supported yet, so it must outlive any deployment plan. */
const VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;

const RSA_SHA256 = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

export async function makeSelfSignedCredential(input: { commonName: string; now: number }): Promise<SelfSignedCredential> {
  // tsyringe (a dependency of @peculiar/x509) throws at load time without the Reflect metadata
  // polyfill; importing both here, in order, keeps it off every other code path.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto;
  const keys = await crypto.subtle.generateKey(RSA_SHA256, true, ['sign', 'verify']);
  // RFC 5280 §4.1.2.2: a positive serial number of at most 20 octets (high bit cleared).
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: [{ CN: [input.commonName] }],
      // A minute back: an IdP whose clock is slightly behind still sees a valid certificate.
      notBefore: new Date(input.now - 60_000),
      notAfter: new Date(input.now + VALIDITY_MS),
      signingAlgorithm: RSA_SHA256,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const body = pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return {
    certificatePem: cert.toString('pem'),
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`,
  };
}
