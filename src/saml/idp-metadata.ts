import type { Element } from '@xmldom/xmldom';
import { attr, childrenNamed, is, textOnly } from './dom.ts';
import { BINDING_HTTP_REDIRECT, NS_DSIG, NS_METADATA } from './names.ts';
import { SamlRejection } from './reject.ts';
import { parseStrictXml, refuseMarkupDeclarations } from './xml-guard.ts';

/** What an IdP's metadata says about signing in through it (saml-metadata §2.4.3). */
export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService Location for the HTTP-Redirect binding, when it has one */
  ssoUrl: string | undefined;
  /** every signing certificate, PEM, without duplicates */
  certificates: string[];
  /** saml-metadata §2.4.3: WantAuthnRequestsSigned — the IdP requires signed AuthnRequests */
  wantAuthnRequestsSigned: boolean;
}

/** A metadata file that cannot be used; the message names what is wrong, never quotes the file. */
export class IdpMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdpMetadataError';
  }
}

/**
 * Reads an `<md:EntityDescriptor>` with one `<md:IDPSSODescriptor>`. The same guard as for
 * assertions runs first: no DTD or entity declaration is ever parsed (XXE), and the parse is
 * strict. Metadata is trusted configuration an administrator chose; its own signature (if any)
 * is not checked here, as it is read from a file, not fetched.
 */
export function readIdpMetadata(text: string): IdpMetadata {
  let root: Element | null;
  try {
    refuseMarkupDeclarations(text);
    root = parseStrictXml(text).documentElement;
  } catch (error) {
    if (!(error instanceof SamlRejection)) throw error;
    throw new IdpMetadataError(
      error.reason === 'doctype_forbidden'
        ? 'the metadata contains a DOCTYPE or entity declaration, which is refused'
        : 'the metadata is not well-formed XML',
    );
  }
  if (root === null || !is(root, NS_METADATA, 'EntityDescriptor')) {
    throw new IdpMetadataError('the metadata must be one <md:EntityDescriptor> (export the metadata of this one IdP)');
  }
  const entityId = attr(root, 'entityID')?.trim();
  if (!entityId) throw new IdpMetadataError('the EntityDescriptor has no entityID');
  const descriptors = childrenNamed(root, NS_METADATA, 'IDPSSODescriptor');
  if (descriptors.length !== 1) throw new IdpMetadataError('the metadata must describe exactly one IdP (one IDPSSODescriptor)');
  const idp = descriptors[0]!;

  // saml-metadata §2.4.1.1: a KeyDescriptor without `use` serves both signing and encryption.
  const certificates = new Set<string>();
  for (const key of childrenNamed(idp, NS_METADATA, 'KeyDescriptor')) {
    const use = attr(key, 'use');
    if (use !== undefined && use !== 'signing') continue;
    for (const keyInfo of childrenNamed(key, NS_DSIG, 'KeyInfo')) {
      for (const data of childrenNamed(keyInfo, NS_DSIG, 'X509Data')) {
        for (const cert of childrenNamed(data, NS_DSIG, 'X509Certificate')) {
          const base64 = (textOnly(cert) ?? '').replace(/\s+/g, '');
          if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new IdpMetadataError('an X509Certificate is not base64');
          certificates.add(toPem(base64));
        }
      }
    }
  }
  if (certificates.size === 0) {
    throw new IdpMetadataError('the metadata has no signing certificate (KeyDescriptor use="signing" with an X509Certificate)');
  }

  let ssoUrl: string | undefined;
  for (const service of childrenNamed(idp, NS_METADATA, 'SingleSignOnService')) {
    if (attr(service, 'Binding') === BINDING_HTTP_REDIRECT) {
      ssoUrl = attr(service, 'Location')?.trim();
      break;
    }
  }
  // xs:boolean: "true" or "1" (XML Schema part 2 §3.2.2); absent means false (saml-metadata §2.4.3).
  const want = attr(idp, 'WantAuthnRequestsSigned')?.trim();
  return { entityId, ssoUrl, certificates: [...certificates], wantAuthnRequestsSigned: want === 'true' || want === '1' };
}

function toPem(base64: string): string {
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
