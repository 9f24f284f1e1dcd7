/**
 * The identity provider and replay-cache aggregates on every store kind: entity ids and
 * certificates are unique, an assertion id is claimed once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/crypto/secrets.ts';
import { DEFAULT_ORG_ID } from '../../src/store/migrations.ts';
import { type Idp, type IdpCertificate, type Store, StoreConflictError } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { NOW, openContractStore } from './support.ts';

function idp(extra: Partial<Idp> = {}): Idp {
  return {
    id: newId('idp_'),
    orgId: DEFAULT_ORG_ID,
    entityId: `https://idp.example/${newId('')}`,
    jit: false,
    signRequests: false,
    createdAt: NOW,
    version: 1,
    ...extra,
  };
}

function certificate(idpId: string, extra: Partial<IdpCertificate> = {}): IdpCertificate {
  return {
    id: newId('crt_'),
    idpId,
    pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    fingerprint: newId('fp_'),
    notAfter: NOW + 86_400_000,
    createdAt: NOW,
    ...extra,
  };
}

for (const kind of storeKinds()) {
  describe(`store idps and replay [${kind}]`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openContractStore(kind));
    });
    after(() => close());

    test('an IdP is found by id and by entity id, and listed in creation order', async () => {
      const a = idp({ jit: true, createdAt: NOW + 1 });
      const b = idp({ createdAt: NOW + 2 });
      await store.idps.create(b);
      await store.idps.create(a);
      assert.deepEqual(await store.idps.find(a.id), a);
      assert.deepEqual(await store.idps.findByEntityId(b.entityId), b);
      assert.equal(await store.idps.find('idp_nope'), undefined);

      assert.equal(await store.idps.findByEntityId('https://idp.example/nope'), undefined);
      const ids = (await store.idps.list()).map((x) => x.id);
      assert.ok(ids.indexOf(a.id) >= 0 && ids.indexOf(a.id) < ids.indexOf(b.id));
    });

    test('signRequests is stored at creation and switched by updateSignRequests', async () => {
      const signed = idp({ signRequests: true });
      await store.idps.create(signed);
      assert.equal((await store.idps.find(signed.id))?.signRequests, true);
      assert.equal(await store.idps.updateSignRequests(signed.id, false), true);
      assert.equal((await store.idps.find(signed.id))?.signRequests, false);
      assert.equal(await store.idps.updateSignRequests(signed.id, true), true);
      assert.equal((await store.idps.findByEntityId(signed.entityId))?.signRequests, true);
      assert.equal(await store.idps.updateSignRequests('idp_nope', true), false);
    });

    test('a second IdP with the same entity id is a StoreConflictError', async () => {
      const first = idp();
      await store.idps.create(first);
      await assert.rejects(store.idps.create(idp({ entityId: first.entityId })), StoreConflictError);
    });

    test('idps certificates: created, listed per IdP, deleted once; the same fingerprint twice is a StoreConflictError', async () => {
      const owner = idp();
      const other = idp();
      await store.idps.create(owner);
      await store.idps.create(other);
      const older = certificate(owner.id, { createdAt: NOW + 1 });
      const newer = certificate(owner.id, { createdAt: NOW + 2 });
      await store.idps.createCertificate(newer);
      await store.idps.createCertificate(older);
      assert.deepEqual(await store.idps.listCertificates(owner.id), [older, newer]);
      await assert.rejects(store.idps.createCertificate(certificate(owner.id, { fingerprint: older.fingerprint })), StoreConflictError);
      await store.idps.createCertificate(certificate(other.id, { fingerprint: older.fingerprint }));
      assert.equal((await store.idps.listCertificates(other.id)).length, 1, 'another IdP may register the same certificate');
      assert.equal(await store.idps.deleteCertificate(other.id, older.id), false, 'only the owning IdP deletes a certificate');
      assert.equal(await store.idps.deleteCertificate(owner.id, older.id), true);
      assert.equal(await store.idps.deleteCertificate(owner.id, older.id), false);
      assert.deepEqual(await store.idps.listCertificates(owner.id), [newer]);
    });

    test('replay.claim is true once per issuer and assertion id; prune forgets the expired ones', async () => {
      const issuer = `https://idp.example/${newId('')}`;
      const assertionId = newId('_a');
      assert.equal(await store.replay.claim(issuer, assertionId, NOW - 1000), true);
      assert.equal(await store.replay.claim(issuer, assertionId, NOW + 1000), false);
      assert.equal(await store.replay.claim(`${issuer}/other`, assertionId, NOW + 1000), true, 'ids are per issuer');
      const kept = newId('_a');
      assert.equal(await store.replay.claim(issuer, kept, NOW + 1000), true);
      assert.equal(await store.replay.prune(NOW), 1);
      assert.equal(await store.replay.claim(issuer, assertionId, NOW + 1000), true, 'claimable again once pruned');
      assert.equal(await store.replay.claim(issuer, kept, NOW + 2000), false, 'not pruned before it expired');
    });
  });
}
