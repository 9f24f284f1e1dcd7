/**
 * Contract §5–§8 at the CLI: `client create` with --scope, --access-token-format, --service,
 * --resource-server --audience; every bad value is one line on stderr and a non-zero exit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertFails, runCliInProcess, singleJson } from '../core/support.ts';
import { freshDatabase, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`client create for scopes, formats, services and resource servers [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    const cli = (args: string[]) => runCliInProcess(args, { env: { DATABASE_URL: db.url, KEY_ENCRYPTION_KEY: '' } });
    const oneLine = (result: Awaited<ReturnType<typeof cli>>, pattern: RegExp) => {
      assertFails(result, pattern);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    };
    before(async () => {
      db = await freshDatabase(kind);
    });
    after(() => db.drop());

    test('an app with scopes and JWT access tokens, a service, a resource server: client list shows each', async () => {
      const app = singleJson(
        await cli([
          'client',
          'create',
          '--name',
          'Orders UI',
          '--redirect-url',
          'https://orders.example/cb',
          '--scope',
          'orders:read orders:write',
          '--scope',
          'profile',
          '--access-token-format',
          'jwt',
          '--json',
        ]),
      );
      const service = singleJson(
        await cli(['client', 'create', '--service', '--name', 'Billing job', '--scope', 'invoices:write', '--json']),
      );
      const api = singleJson(
        await cli([
          'client',
          'create',
          '--resource-server',
          '--name',
          'Orders API',
          '--audience',
          'https://api.example.com/orders',
          '--json',
        ]),
      );
      for (const made of [app, service, api]) assert.deepEqual(Object.keys(made).sort(), ['client_id', 'client_secret']);
      const listed = (singleJson(await cli(['client', 'list', '--json'])).clients as Array<Record<string, unknown>>).reduce(
        (m, c) => m.set(c.client_id, c),
        new Map<unknown, Record<string, unknown>>(),
      );
      assert.deepEqual(
        [listed.get(app.client_id)?.kind, listed.get(app.client_id)?.scope, listed.get(app.client_id)?.access_token_format],
        ['app', 'orders:read orders:write profile', 'jwt'],
      );
      assert.equal(listed.get(service.client_id)?.kind, 'service');
      assert.equal(listed.get(service.client_id)?.token_type, 'Bearer');
      assert.equal(listed.get(api.client_id)?.kind, 'resource_server');
      assert.equal(listed.get(api.client_id)?.audience, 'https://api.example.com/orders');
      assert.equal(JSON.stringify([...listed.values()]).includes('scs_'), false, 'no secret in the list');
    });

    test('bad values: one line on stderr, non-zero exit, nothing registered', async () => {
      const before = (singleJson(await cli(['client', 'list', '--json'])).clients as unknown[]).length;
      const cb = ['--redirect-url', 'https://x.example/cb'];
      oneLine(await cli(['client', 'create', '--name', 'x', ...cb, '--scope', 'bad"scope']), /--scope/);
      oneLine(await cli(['client', 'create', '--name', 'x', ...cb, '--scope', 'a  b']), /--scope/);
      oneLine(await cli(['client', 'create', '--name', 'x', ...cb, '--access-token-format', 'paseto']), /access-token-format/);
      oneLine(await cli(['client', 'create', '--name', 'x', '--resource-server']), /--audience/);
      oneLine(await cli(['client', 'create', '--name', 'x', '--resource-server', '--audience', 'orders']), /absolute URI/);
      oneLine(
        await cli(['client', 'create', '--name', 'x', '--resource-server', '--audience', 'https://a.example', ...cb]),
        /redirect-url/,
      );
      oneLine(await cli(['client', 'create', '--name', 'x', ...cb, '--audience', 'https://a.example']), /--resource-server/);
      oneLine(await cli(['client', 'create', '--name', 'x']), /--redirect-url/);
      oneLine(
        await cli(['client', 'create', '--name', 'x', '--resource-server', '--audience', 'https://api.example.com/orders']),
        /already exists/,
      );
      assert.equal((singleJson(await cli(['client', 'list', '--json'])).clients as unknown[]).length, before);
    });
  });
}
