import { X509Certificate } from 'node:crypto';
import { checkIdpDomain, EmailRefused } from '../accounts/email.ts';
import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import { claimRowVersion } from '../common/row-version.ts';
import { newId } from '../crypto/secrets.ts';
import type { ChangeContext } from '../events/change-context.ts';
import { securityEvent } from '../events/security-event.ts';
import { IdpMetadataError, readIdpMetadata } from '../saml/idp-metadata.ts';
import { DEFAULT_ORG_ID } from '../store/migrations.ts';
import { type Idp, type IdpCertificate, type IdpFilter, type Store, StoreConflictError } from '../store/store.ts';

const by = (ctx: ChangeContext) => ({ actor: ctx.actor, ip: ctx.ip ?? null, requestId: ctx.requestId ?? null });

/** What `idp update` and `PATCH /idps/{id}` may change; lists replace the IdP's current ones. */
export interface IdpChange {
  jit?: boolean;
  ssoUrl?: string | null;
  domains?: string[];
  /** PEM certificates (one to {@link MAX_CERTS_PER_IDP}): the IdP's trust anchors from now on */
  certificates?: string[];
}

export const CERT_EXPIRY_WARNING_MS = 30 * 24 * 3600 * 1000;

/** An IdP may hold two certificates at once: the current one and its successor (rotation). */
export const MAX_CERTS_PER_IDP = 2;

/** A PEM X.509 certificate, parsed and checked: the trust anchor for one IdP's signatures. */
export function parseCertificate(pem: string, now: number): { pem: string; fingerprint: string; notAfter: number } {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    // A customer who sends the key instead of the certificate must hear it plainly: it is never
    // stored, and whoever holds it can sign assertions in the IdP's name.
    throw new AdminError(
      'the file holds a private key: register only the IdP\u2019s signing certificate, and never send or store its private key',
    );
  }
  if (blocks?.length !== 1) {
    throw new AdminError('the file must hold exactly one PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)');
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(blocks[0]!);
  } catch {
    throw new AdminError('the file is not a valid X.509 certificate');
  }
  const notAfter = Date.parse(cert.validTo);
  const notBefore = Date.parse(cert.validFrom);
  if (!(notAfter > now)) throw new AdminError(`the certificate expired on ${new Date(notAfter).toISOString()}`);
  if (notBefore > now + 24 * 3600 * 1000) throw new AdminError(`the certificate is not valid before ${new Date(notBefore).toISOString()}`);
  // The verifier accepts RSA signatures only (RSA-SHA256/512, RSA-PSS; see src/saml/names.ts and
  // xml-crypto's algorithms): a certificate with another key would register and then refuse
  // every assertion. Say so now, not at the first login.
  if (cert.publicKey.asymmetricKeyType !== 'rsa' && cert.publicKey.asymmetricKeyType !== 'rsa-pss') {
    throw new AdminError(
      `the certificate key is ${cert.publicKey.asymmetricKeyType?.toUpperCase() ?? 'of an unknown type'}; SAML signatures are verified with RSA keys only (RSA-SHA256)`,
    );
  }
  // NIST SP 800-131A: RSA keys under 2048 bits are no longer acceptable for signatures.
  const bits = cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new AdminError(`the certificate's RSA key has ${bits} bits; at least 2048 are required`);
  return { pem: blocks[0]!, fingerprint: cert.fingerprint256, notAfter };
}

/**
 * The IdP's SingleSignOnService URL (HTTP-Redirect binding), where browsers are sent with an
 * AuthnRequest. https only: the redirect carries the sign-in to it, and a plain-http IdP page
 * could be replaced on the way. Loopback http is allowed for an IdP on the same machine (tests).
 */
export function parseSsoUrl(raw: string): string {
  const value = raw.trim();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AdminError('--sso-url must be an absolute https URL (the IdP\u2019s SingleSignOnService, HTTP-Redirect binding)');
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
    throw new AdminError('--sso-url must be an https URL (http only for localhost)');
  }
  if (url.hash !== '' || url.username !== '' || url.password !== '' || value.length > 2048) {
    throw new AdminError('--sso-url must not carry a fragment or credentials, and must be at most 2048 characters');
  }
  return value;
}

export interface IdpView {
  id: string;
  org: string;
  entity_id: string;
  /** where browsers are sent to sign in (null: bearer grant only) */
  sso_url: string | null;
  /** AuthnRequests to it are signed */
  sign_requests: boolean;
  jit: boolean;
  /** the email domains it vouches for (contract §10); empty for an IdP registered before domains existed */
  domains: string[];
  certificates: Array<{ id: string; fingerprint: string; not_after: string }>;
  created_at: string;
}

/** Checks and de-duplicates `--domains`; the stored form is lower-case ASCII (A-labels). */
export function parseDomains(domains: readonly string[]): string[] {
  const checked = new Set<string>();
  for (const raw of domains) {
    try {
      checked.add(checkIdpDomain(raw));
    } catch (error) {
      if (error instanceof EmailRefused) throw new AdminError(`--domains: ${error.message}`);
      throw error;
    }
  }
  return [...checked];
}

/** The SAML identity-provider registry behind `sei-auth idp …`. */
export class IdpService {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(deps: { store: Store; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  /**
   * Registers an IdP from its metadata (`idp create --metadata`): entity id, SSO URL and every
   * signing certificate come from the file; a file with a DOCTYPE or without a signing key is refused.
   */
  async createFromMetadata(
    input: {
      orgId?: string;
      metadataXml: string;
      jit?: boolean;
      domains?: readonly string[];
      /** sign AuthnRequests even if the metadata does not ask for it */
      signRequests?: boolean;
    },
    ctx?: ChangeContext,
  ): Promise<{
    id: string;
  }> {
    let metadata;
    try {
      metadata = readIdpMetadata(input.metadataXml);
    } catch (error) {
      if (error instanceof IdpMetadataError) throw new AdminError(`--metadata: ${error.message}`);
      throw error;
    }
    if (metadata.certificates.length > MAX_CERTS_PER_IDP) {
      throw new AdminError(
        `--metadata: it lists ${metadata.certificates.length} signing certificates; an identity provider holds at most ${MAX_CERTS_PER_IDP}`,
      );
    }
    return this.create(
      {
        orgId: input.orgId,
        entityId: metadata.entityId,
        certPems: metadata.certificates,
        ssoUrl: metadata.ssoUrl,
        jit: input.jit,
        domains: input.domains,
        // An IdP that says WantAuthnRequestsSigned="true" rejects unsigned requests: honour it.
        signRequests: input.signRequests === true || metadata.wantAuthnRequestsSigned,
      },
      ctx,
    );
  }

  async create(
    input: {
      orgId?: string;
      entityId: string;
      /** one PEM certificate (`--cert`), or several (`certPems`, from metadata) */
      certPem?: string;
      certPems?: readonly string[];
      ssoUrl?: string;
      jit?: boolean;
      domains?: readonly string[];
      /** sign the AuthnRequests sent to it (saml-bindings §3.4.4.1) */
      signRequests?: boolean;
    },
    ctx?: ChangeContext,
  ): Promise<{
    id: string;
  }> {
    const entityId = input.entityId.trim();
    if (!entityId || entityId.length > 1024) throw new AdminError('--entity-id must be a non-empty IdP entity id');
    const domains = parseDomains(input.domains ?? []);
    const jit = input.jit ?? false;
    // Contract §10: with --jit, users are created only inside the IdP's domains. Without any, a
    // just-in-time IdP could create users with any address, another company's included.
    if (jit && domains.length === 0) {
      throw new AdminError('--jit needs --domains: the email domains this IdP may create users in (e.g. --domains acme.example)');
    }
    const orgId = input.orgId ?? DEFAULT_ORG_ID;
    if (!(await this.store.orgs.find(orgId))) throw new AdminError(`no organization with id ${orgId}`, 'not_found');
    const now = this.clock.now();
    const pems = input.certPems ?? (input.certPem === undefined ? [] : [input.certPem]);
    if (pems.length === 0) throw new AdminError('a signing certificate is required (--cert FILE.pem, or --metadata)');
    const certs = pems.map((pem) => parseCertificate(pem, now));
    const ssoUrl = input.ssoUrl === undefined ? null : parseSsoUrl(input.ssoUrl);
    if ((await this.store.idps.findByEntityId(entityId)) !== undefined) {
      throw new AdminError(`an identity provider with the entity id ${entityId} already exists`);
    }
    await this.refuseTakenDomains(domains);
    const idp: Idp = { id: newId('idp_'), orgId, entityId, jit, ssoUrl, signRequests: input.signRequests ?? false, createdAt: now };
    try {
      await this.store.transaction(async (tx) => {
        await tx.idps.create(idp);
        for (const cert of certs) await tx.idps.createCertificate({ id: newId('crt_'), idpId: idp.id, ...cert, createdAt: now });
        for (const domain of domains) await tx.idps.createDomain(idp.id, domain);
        if (ctx) await tx.events.create(securityEvent('idp_created', now, { ...by(ctx), target: `idp:${idp.id}`, orgId }));
      });
    } catch (error) {
      // Another registration won a race between the checks above and this transaction: name
      // what it took (the transaction is over, so the store can be asked again).
      if (error instanceof StoreConflictError) {
        await this.refuseTakenDomains(domains);
        throw new AdminError(`an identity provider with the entity id ${entityId} already exists`);
      }
      throw error;
    }
    return { id: idp.id };
  }

  /** Sets (or, with null, removes) where browsers are sent to sign in through an IdP. */
  async setSsoUrl(idpId: string, ssoUrl: string | null): Promise<{ id: string; sso_url: string | null }> {
    const idp = await this.idp(idpId);
    const checked = ssoUrl === null ? null : parseSsoUrl(ssoUrl);
    await this.store.idps.updateSsoUrl(idp.id, checked);
    return { id: idp.id, sso_url: checked };
  }

  /** Turns signed AuthnRequests to an IdP on or off (`idp set-sign-requests`). */
  async setSignRequests(idpId: string, signRequests: boolean): Promise<{ id: string; sign_requests: boolean }> {
    const idp = await this.idp(idpId);
    await this.store.idps.updateSignRequests(idp.id, signRequests);
    return { id: idp.id, sign_requests: signRequests };
  }

  /** Contract §10: a domain belongs to at most one IdP; say which one holds it. */
  private async refuseTakenDomains(domains: readonly string[], exceptIdpId?: string): Promise<void> {
    for (const domain of domains) {
      const owner = await this.store.idps.findByDomain(domain);
      if (owner !== undefined && owner.id !== exceptIdpId) {
        throw new AdminError(`the email domain ${domain} belongs to the identity provider ${owner.entityId} (${owner.id}) already`);
      }
    }
  }

  /** Adds email domains to an IdP (`idp add-domain`); a domain it already has is left as is. */
  async addDomains(idpId: string, domains: readonly string[]): Promise<{ domains: string[] }> {
    const idp = await this.idp(idpId);
    const checked = parseDomains(domains);
    if (checked.length === 0) throw new AdminError('--domains must name at least one domain');
    await this.refuseTakenDomains(checked, idp.id);
    try {
      await this.store.transaction(async (tx) => {
        const current = new Set(await tx.idps.listDomains(idp.id));
        for (const domain of checked) if (!current.has(domain)) await tx.idps.createDomain(idp.id, domain);
      });
    } catch (error) {
      if (error instanceof StoreConflictError) {
        await this.refuseTakenDomains(checked, idp.id);
        throw new AdminError(`one of the domains ${checked.join(', ')} was registered for another identity provider meanwhile`);
      }
      throw error;
    }
    return { domains: await this.store.idps.listDomains(idp.id) };
  }

  /**
   * Removes an email domain from an IdP (`idp remove-domain`). Its users can no longer sign in
   * through this IdP. A just-in-time IdP keeps at least one domain.
   */
  async removeDomain(idpId: string, domain: string): Promise<{ domains: string[] }> {
    const idp = await this.idp(idpId);
    const [name] = parseDomains([domain]);
    await this.store.transaction(async (tx) => {
      const current = await tx.idps.listDomains(idp.id);
      if (!current.includes(name!)) throw new AdminError(`the identity provider ${idp.entityId} has no domain ${name}`);
      if (idp.jit && current.length === 1) {
        throw new AdminError(`${name} is the only domain of a --jit identity provider; add its replacement first`);
      }
      await tx.idps.deleteDomain(idp.id, name!);
    });
    return { domains: await this.store.idps.listDomains(idp.id) };
  }

  private async idp(idpId: string): Promise<Idp> {
    const idp = (await this.store.idps.find(idpId)) ?? (await this.store.idps.findByEntityId(idpId));
    if (!idp) throw new AdminError(`no identity provider with id or entity id ${idpId}`, 'not_found');
    return idp;
  }

  async addCertificate(idpId: string, certPem: string): Promise<{ id: string; fingerprint: string }> {
    const idp = await this.idp(idpId);
    const now = this.clock.now();
    const cert = parseCertificate(certPem, now);
    const id = newId('crt_');
    try {
      await this.store.transaction(async (tx) => {
        if ((await tx.idps.listCertificates(idp.id)).length >= MAX_CERTS_PER_IDP) {
          throw new AdminError(`an identity provider holds at most ${MAX_CERTS_PER_IDP} certificates; remove the old one first`);
        }
        await tx.idps.createCertificate({ id, idpId: idp.id, ...cert, createdAt: now });
      });
    } catch (error) {
      if (error instanceof StoreConflictError) throw new AdminError('this certificate is already registered for the identity provider');
      throw error;
    }
    return { id, fingerprint: cert.fingerprint };
  }

  /** Removes by certificate id or fingerprint; the last certificate cannot be removed. */
  async removeCertificate(idpId: string, cert: string): Promise<void> {
    const idp = await this.idp(idpId);
    await this.store.transaction(async (tx) => {
      const certs = await tx.idps.listCertificates(idp.id);
      const target = certs.find((c) => c.id === cert || c.fingerprint.toLowerCase() === cert.toLowerCase());
      if (!target) throw new AdminError(`no certificate ${cert} on this identity provider`);
      if (certs.length === 1) throw new AdminError('this is the only certificate of the identity provider; add its successor first');
      await tx.idps.deleteCertificate(idp.id, target.id);
    });
  }

  async list(): Promise<IdpView[]> {
    const views: IdpView[] = [];
    for (const idp of await this.store.idps.list()) views.push(await this.view(idp));
    return views;
  }

  page(filter: IdpFilter): Promise<Idp[]> {
    return this.store.idps.page(filter);
  }

  /** The IdP by id (not by entity id: the admin API's rows), or not_found. */
  async byId(id: string): Promise<Idp> {
    const idp = await this.store.idps.find(id);
    if (!idp) throw new AdminError(`no identity provider with id ${id}`, 'not_found');
    return idp;
  }

  /** The IdP with its domains and certificates, in the CLI's `--json` names. */
  async view(idp: Idp): Promise<IdpView> {
    const certs = await this.store.idps.listCertificates(idp.id);
    return {
      id: idp.id,
      org: idp.orgId,
      entity_id: idp.entityId,
      sso_url: idp.ssoUrl ?? null,
      sign_requests: idp.signRequests ?? false,
      jit: idp.jit,
      domains: await this.store.idps.listDomains(idp.id),
      certificates: certs.map((c) => ({ id: c.id, fingerprint: c.fingerprint, not_after: new Date(c.notAfter).toISOString() })),
      created_at: new Date(idp.createdAt).toISOString(),
    };
  }

  /**
   * Changes an IdP: JIT, SSO URL, and (replacing them) its domains and certificates, checked as
   * at creation, in one transaction; `ifVersion` is the ETag the change was made on.
   */
  async update(id: string, change: IdpChange, ctx: ChangeContext, ifVersion?: number): Promise<Idp> {
    const idp = await this.byId(id);
    const now = this.clock.now();
    const ssoUrl = change.ssoUrl === undefined ? undefined : change.ssoUrl === null ? null : parseSsoUrl(change.ssoUrl);
    const domains = change.domains === undefined ? undefined : parseDomains(change.domains);
    let certs: Array<{ pem: string; fingerprint: string; notAfter: number }> | undefined;
    if (change.certificates !== undefined) {
      if (change.certificates.length === 0 || change.certificates.length > MAX_CERTS_PER_IDP) {
        throw new AdminError(`certificates must hold 1 to ${MAX_CERTS_PER_IDP} PEM certificates`);
      }
      certs = change.certificates.map((pem) => parseCertificate(pem, now));
    }
    if (domains) await this.refuseTakenDomains(domains, id);
    try {
      return await this.store.transaction(async (tx) => {
        await claimRowVersion(tx.idps, id, ifVersion, 'identity provider');
        if (change.jit !== undefined) await tx.idps.updateJit(id, change.jit);
        if (ssoUrl !== undefined) await tx.idps.updateSsoUrl(id, ssoUrl);
        if (domains) {
          for (const old of await tx.idps.listDomains(id)) if (!domains.includes(old)) await tx.idps.deleteDomain(id, old);
          const current = new Set(await tx.idps.listDomains(id));
          for (const domain of domains) if (!current.has(domain)) await tx.idps.createDomain(id, domain);
        }
        if (certs) {
          const keep = new Set(certs.map((c) => c.fingerprint));
          const existing = await tx.idps.listCertificates(id);
          for (const old of existing) if (!keep.has(old.fingerprint)) await tx.idps.deleteCertificate(id, old.id);
          const have = new Set(existing.map((c) => c.fingerprint));
          for (const cert of certs)
            if (!have.has(cert.fingerprint)) await tx.idps.createCertificate({ id: newId('crt_'), idpId: id, ...cert, createdAt: now });
        }
        const after = (await tx.idps.find(id))!;
        // Contract §10: a just-in-time IdP creates users only inside its domains, so it keeps one.
        if (after.jit && (await tx.idps.listDomains(id)).length === 0) {
          throw new AdminError('a jit identity provider needs at least one domain (it creates users only inside them)');
        }
        const changed = Object.keys(change).sort().join(' ');
        await tx.events.create(
          securityEvent('idp_updated', now, { ...by(ctx), target: `idp:${id}`, orgId: idp.orgId, reason: changed || null }),
        );
        return after;
      });
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AdminError('a domain or certificate was registered elsewhere meanwhile; retry', 'conflict');
      throw error;
    }
  }

  /** Removes an IdP with its certificates and domains: its users can no longer sign in through it. */
  async delete(id: string, ctx: ChangeContext, ifVersion?: number): Promise<void> {
    const idp = await this.byId(id);
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      await claimRowVersion(tx.idps, id, ifVersion, 'identity provider');
      await tx.idps.delete(id);
      await tx.events.create(securityEvent('idp_deleted', now, { ...by(ctx), target: `idp:${id}`, orgId: idp.orgId }));
    });
  }

  /** Certificates that expire within 30 days (the server warns about them at start-up). */
  async expiringCertificates(): Promise<Array<{ entityId: string; cert: IdpCertificate }>> {
    const now = this.clock.now();
    const soon: Array<{ entityId: string; cert: IdpCertificate }> = [];
    for (const idp of await this.store.idps.list()) {
      for (const cert of await this.store.idps.listCertificates(idp.id)) {
        if (cert.notAfter - now < CERT_EXPIRY_WARNING_MS) soon.push({ entityId: idp.entityId, cert });
      }
    }
    return soon;
  }
}
