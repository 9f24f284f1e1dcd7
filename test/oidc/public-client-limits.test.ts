/**
 * Contract §7 exempts authenticated clients from the per-IP limit; a public client (contract §11)
 * names itself without proving anything, so its requests stay under that limit like anyone's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CALLBACK } from '../code-flow/flow.ts';
import { createHarness, type Harness, ManualClock, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`public clients and the per-IP limit [${kind}]`, () => {
    let h: Harness;
    let publicId: string;
    before(async () => {
      h = await createHarness({ kind, clock: new ManualClock(), rateLimits: { perIp: 1, perClient: 0 } });
      publicId = (await h.services.clients.createClient({ name: 'SPA', redirectUrls: [CALLBACK], public: true })).client_id;
    });
    after(() => h.close());

    test('a public client’s requests spend its address’s budget and get 429 past it', async () => {
      const revoke = () =>
        h.app.inject({
          method: 'POST',
          url: '/oauth/revoke',
          remoteAddress: '198.51.100.77',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ client_id: publicId, token: 'srt_unknown' }).toString(),
        });
      // rate 1/s, burst 2: two are served, the third from the same address is refused.
      assert.equal((await revoke()).statusCode, 200);
      assert.equal((await revoke()).statusCode, 200);
      const third = await revoke();
      assert.equal(third.statusCode, 429, third.body);
      assert.equal(third.json().error, 'slow_down');
    });
  });
}
