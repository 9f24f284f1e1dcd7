/**
 * Opening a store: it reports its kind, answers ping and has the default organization; and
 * SQLite's open is retried while other processes set the same new file up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_ORG_ID } from '../../src/store/migrations.ts';
import { retryWhileBusy } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { storeKinds } from '../support/harness.ts';
import { openContractStore } from './support.ts';

for (const kind of storeKinds()) {
  describe(`opening a store [${kind}]`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openContractStore(kind));
    });
    after(() => close());

    test('the store reports its kind, answers ping, and has the default organization', async () => {
      assert.equal(store.kind, kind);
      await store.ping();
      assert.equal((await store.orgs.find(DEFAULT_ORG_ID))?.maxSessions, null);
    });
  });
}

describe('opening SQLite while other processes set the same new file up', () => {
  const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

  test('SQLITE_BUSY while opening is retried until the open succeeds', async () => {
    let attempts = 0;
    const value = await retryWhileBusy(async () => {
      if (++attempts < 3) throw busy();
      return 'opened';
    });
    assert.equal(value, 'opened');
    assert.equal(attempts, 3);
  });

  test('any other error is not retried', async () => {
    let attempts = 0;
    await assert.rejects(
      retryWhileBusy(async () => {
        attempts++;
        throw Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' });
      }),
      /not a database/,
    );
    assert.equal(attempts, 1);
  });

  test('a lock that never clears ends in the error once the retry time is up', async () => {
    let attempts = 0;
    await assert.rejects(
      retryWhileBusy(async () => {
        attempts++;
        throw busy();
      }, 200),
      /database is locked/,
    );
    assert.ok(attempts > 1);
  });
});
