/** SAML identity providers, their signing certificates, and the assertion replay cache. */

export interface Idp {
  id: string;
  orgId: string;
  entityId: string;
  /** create unknown users of the IdP's organization on first login (just-in-time) */
  jit: boolean;
  createdAt: number;
}

export interface IdpCertificate {
  id: string;
  idpId: string;
  pem: string;
  /** SHA-256 fingerprint, colon-separated hex, as openssl prints it */
  fingerprint: string;
  notAfter: number;
  createdAt: number;
}

export interface IdpStore {
  /** Throws {@link StoreConflictError} when the entity id is taken. */
  create(idp: Idp): Promise<void>;
  find(id: string): Promise<Idp | undefined>;
  findByEntityId(entityId: string): Promise<Idp | undefined>;
  list(): Promise<Idp[]>;
  /** Throws {@link StoreConflictError} when the certificate is already registered for the IdP. */
  createCertificate(cert: IdpCertificate): Promise<void>;
  listCertificates(idpId: string): Promise<IdpCertificate[]>;
  deleteCertificate(idpId: string, certId: string): Promise<boolean>;
}

export interface ReplayStore {
  /** True the first time an assertion id of this issuer is claimed (kept until `keepUntil`). */
  claim(issuer: string, assertionId: string, keepUntil: number): Promise<boolean>;
  prune(before: number): Promise<number>;
}
