/**
 * OpenID Connect Core §3.1.2.1: a request is an OpenID Connect request only when it asks for
 * `openid`. An OAuth client whose --scope set includes openid, asking for no scope, gets its
 * other scopes and plain OAuth answers: no ID token, its own token_type.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CALLBACK, exchangeCode, obtainCode, pkcePair } from '../code-flow/flow.ts';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`the default scope never makes an OpenID Connect request [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    before(async () => {
      h = await createHarness({ kind });
      s = await h.seed({ client: { scopes: ['openid email reports:read'] } });
    });
    after(() => h.close());

    test('no scope asked: the client’s scopes but openid, no id_token, the seed’s token_type', async () => {
      const { verifier, challenge } = pkcePair();
      const code = await obtainCode(h, s, { redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256' });
      const res = await exchangeCode(h, s, code, { redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.scope, 'email reports:read');
      assert.equal(body.id_token, undefined);
      assert.equal(body.token_type, 'BearerToken');
    });

    test('openid asked: an id_token and token_type Bearer', async () => {
      const { verifier, challenge } = pkcePair();
      const code = await obtainCode(h, s, {
        redirect_uri: CALLBACK,
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const body = (await exchangeCode(h, s, code, { redirect_uri: CALLBACK, code_verifier: verifier })).json();
      assert.equal(body.scope, 'openid');
      assert.ok(body.id_token);
      assert.equal(body.token_type, 'Bearer');
    });
  });
}
