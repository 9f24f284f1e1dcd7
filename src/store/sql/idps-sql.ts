import type { SqlExecutor, SqlValue } from '../sql-driver.ts';
import { type Idp, type IdpCertificate, type IdpFilter, type IdpStore, StoreConflictError } from '../store.ts';
import { bumpSql, keysetPage } from './keyset.ts';
import { flag, isUniqueViolation, type Row, toIdp, toIdpCertificate } from './rows.ts';

export class SqlIdpStore implements IdpStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(idp: Idp): Promise<void> {
    try {
      await this.db.run('INSERT INTO idps (id, org_id, entity_id, jit, sso_url, sign_requests, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        idp.id,
        idp.orgId,
        idp.entityId,
        flag(idp.jit),
        idp.ssoUrl ?? null,
        flag(idp.signRequests ?? false),
        idp.createdAt,
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError('an identity provider with this entity id already exists');
      throw error;
    }
  }

  async find(id: string): Promise<Idp | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM idps WHERE id = ?', [id]);
    return r && toIdp(r);
  }

  async findByEntityId(entityId: string): Promise<Idp | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM idps WHERE entity_id = ?', [entityId]);
    return r && toIdp(r);
  }

  async list(): Promise<Idp[]> {
    return (await this.db.all<Row>('SELECT * FROM idps ORDER BY created_at, id')).map(toIdp);
  }

  async createCertificate(cert: IdpCertificate): Promise<void> {
    try {
      await this.db.run('INSERT INTO idp_certs (id, idp_id, pem, fingerprint, not_after, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        cert.id,
        cert.idpId,
        cert.pem,
        cert.fingerprint,
        cert.notAfter,
        cert.createdAt,
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError('this certificate is already registered for the identity provider');
      throw error;
    }
  }

  async listCertificates(idpId: string): Promise<IdpCertificate[]> {
    return (await this.db.all<Row>('SELECT * FROM idp_certs WHERE idp_id = ? ORDER BY created_at, id', [idpId])).map(toIdpCertificate);
  }

  async deleteCertificate(idpId: string, certId: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM idp_certs WHERE idp_id = ? AND id = ?', [idpId, certId]);
    return changes > 0;
  }

  async createDomain(idpId: string, domain: string): Promise<void> {
    try {
      await this.db.run('INSERT INTO idp_domains (domain, idp_id) VALUES (?, ?)', [domain, idpId]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError('this email domain belongs to an identity provider already');
      throw error;
    }
  }

  async listDomains(idpId: string): Promise<string[]> {
    return (await this.db.all<Row>('SELECT domain FROM idp_domains WHERE idp_id = ? ORDER BY domain', [idpId])).map((r) =>
      String(r.domain),
    );
  }

  async findByDomain(domain: string): Promise<Idp | undefined> {
    const r = await this.db.get<Row>('SELECT i.* FROM idp_domains d JOIN idps i ON i.id = d.idp_id WHERE d.domain = ?', [domain]);
    return r && toIdp(r);
  }

  async deleteDomain(idpId: string, domain: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM idp_domains WHERE idp_id = ? AND domain = ?', [idpId, domain]);
    return changes > 0;
  }

  async updateSsoUrl(idpId: string, ssoUrl: string | null): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE idps SET sso_url = ? WHERE id = ?', [ssoUrl, idpId]);
    return changes > 0;
  }

  async updateJit(idpId: string, jit: boolean): Promise<boolean> {
    return (await this.db.run('UPDATE idps SET jit = ? WHERE id = ?', [flag(jit), idpId])).changes > 0;
  }

  async page(filter: IdpFilter): Promise<Idp[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.orgId !== undefined) {
      where.push('org_id = ?');
      params.push(filter.orgId);
    }
    const q = keysetPage('idps', 'created_at', filter, where, params);
    return (await this.db.all<Row>(q.sql, q.params)).map(toIdp);
  }

  async bump(id: string, expected?: number): Promise<boolean> {
    const q = bumpSql('idps', id, expected);
    return (await this.db.run(q.sql, q.params)).changes > 0;
  }

  async delete(id: string): Promise<boolean> {
    await this.db.run('DELETE FROM idp_certs WHERE idp_id = ?', [id]);
    await this.db.run('DELETE FROM idp_domains WHERE idp_id = ?', [id]);
    await this.db.run('DELETE FROM saml_requests WHERE idp_id = ?', [id]);
    return (await this.db.run('DELETE FROM idps WHERE id = ?', [id])).changes > 0;
  }

  async updateSignRequests(idpId: string, signRequests: boolean): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE idps SET sign_requests = ? WHERE id = ?', [flag(signRequests), idpId]);
    return changes > 0;
  }
}
