/** SAML identity providers, their signing certificates, and the assertion replay cache. */
import type { PageQuery } from './page.ts';

export interface Idp {
  id: string;
  orgId: string;
  entityId: string;
  /** create unknown users of the IdP's organization on first login (just-in-time) */
  jit: boolean;
  /** SingleSignOnService location (HTTP-Redirect binding) for the browser login; null or absent: bearer grant only */
  ssoUrl?: string | null;
  /** sign the AuthnRequests sent to it (the IdP wants them signed); absent: false */
  signRequests?: boolean;
  createdAt: number;
  /** bumped by every admin change: the row's ETag (1 when absent) */
  version?: number;
}

export interface IdpFilter extends PageQuery {
  orgId?: string;
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
  /** Throws {@link StoreConflictError} when the domain belongs to an IdP already (contract §10). */
  createDomain(idpId: string, domain: string): Promise<void>;
  /** The email domains an IdP vouches for, sorted. */
  listDomains(idpId: string): Promise<string[]>;
  /** The IdP that vouches for an email domain (already normalised). */
  findByDomain(domain: string): Promise<Idp | undefined>;
  deleteDomain(idpId: string, domain: string): Promise<boolean>;
  /** Sets or clears the SSO URL; true when the IdP exists. */
  updateSsoUrl(idpId: string, ssoUrl: string | null): Promise<boolean>;
  updateJit(idpId: string, jit: boolean): Promise<boolean>;
  /** Newest first (keyset on created_at, id). */
  page(filter: IdpFilter): Promise<Idp[]>;
  /** The row-version compare-and-swap (see OrgStore.bump). */
  bump(id: string, expected?: number): Promise<boolean>;
  /** Removes the IdP with its certificates, domains and pending SAML requests. */
  delete(id: string): Promise<boolean>;
  /** Turns signed AuthnRequests on or off; true when the IdP exists. */
  updateSignRequests(idpId: string, signRequests: boolean): Promise<boolean>;
}

export interface ReplayStore {
  /** True the first time an assertion id of this issuer is claimed (kept until `keepUntil`). */
  claim(issuer: string, assertionId: string, keepUntil: number): Promise<boolean>;
  prune(before: number): Promise<number>;
}
