/** Namespace and URI constants of SAML 2.0 (saml-core-2.0-os) and XML-DSig used by the verifier. */

export const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const NS_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const NS_DSIG = 'http://www.w3.org/2000/09/xmldsig#';
export const NS_METADATA = 'urn:oasis:names:tc:SAML:2.0:metadata';

/** saml-bindings §3.4 and §3.5: where requests go (Redirect) and where responses come back (POST). */
export const BINDING_HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
export const BINDING_HTTP_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const CM_BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const NAMEID_FORMAT_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
export const NAMEID_FORMAT_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
export const NAMEID_FORMAT_ENTITY = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';

/** Attribute names that carry an email address (eduPerson / LDAP `mail`, and the common short names). */
export const EMAIL_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(['email', 'mail', 'urn:oid:0.9.2342.19200300.100.1.3']);

/** Signature algorithms verified by default (all RSA with SHA-2). */
export const STRONG_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
]);

/** SHA-1 based signature algorithms: refused unless `allowSha1` (SHA-1 collisions are practical). */
export const SHA1_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  'http://www.w3.org/2000/09/xmldsig#dsa-sha1',
  'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1',
]);

/** Of the SHA-1 signature algorithms, the one xml-crypto can verify with a certificate. */
export const SHA1_RSA_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';

export const STRONG_DIGEST_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

export const SHA1_DIGEST = 'http://www.w3.org/2000/09/xmldsig#sha1';

export const TRANSFORM_ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/**
 * Canonicalization methods accepted for SignedInfo and as Reference transforms. saml-core §5.4.3
 * asks for exclusive C14N; inclusive C14N is still seen from older IdPs and is as safe here.
 */
export const CANONICALIZATIONS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/10/xml-exc-c14n#',
  'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
]);
