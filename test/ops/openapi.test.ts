/**
 * The OpenAPI 3.1 document (issue #7) against the real routes: a served route missing from the
 * document, or a documented one the server does not serve, fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createHarness, type Harness } from '../support/harness.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * The routes the app serves, from fastify's route tree: lines like `├── /oauth/token (POST)`,
 * children indented four columns per level and printed relative to their parent.
 * Fastify's automatic HEAD twin of each GET route is left out (it is not a route of ours).
 */
function servedRoutes(app: FastifyInstance): Set<string> {
  const routes = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + match[2]!;
    stack.push(path);
    const methods = (match[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    for (const method of methods) if (method !== 'HEAD' || !methods.includes('GET')) routes.add(`${method} ${path}`);
  }
  return routes;
}

function documentedRoutes(doc: { paths: Record<string, Record<string, unknown>> }): Set<string> {
  const routes = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item))
      if (METHODS.includes(method)) routes.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
  }
  return routes;
}

describe('OpenAPI document', () => {
  let h: Harness;
  let doc: Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };
  before(async () => {
    h = await createHarness();
    const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    doc = res.json();
  });
  after(() => h.close());

  test('is OpenAPI 3.1 with the package version and the issuer as server', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal((doc.info as { version: string }).version, VERSION);
    assert.deepEqual(doc.servers, [{ url: h.issuer }]);
  });

  test('documents every route the server serves, and serves every documented route', () => {
    const served = servedRoutes(h.app);
    const documented = documentedRoutes(doc);
    assert.ok(served.size >= 10, `the route tree was read: ${[...served].join(', ')}`);
    const undocumented = [...served].filter((r) => !documented.has(r)).sort();
    const unserved = [...documented].filter((r) => !served.has(r)).sort();
    assert.deepEqual(undocumented, [], 'served but not in the OpenAPI document');
    assert.deepEqual(unserved, [], 'in the OpenAPI document but not served');
    // The same from fastify's own lookup, independent of the route-tree printout.
    for (const route of documented) {
      const [method, url] = route.split(' ') as [string, string];
      assert.ok(h.app.hasRoute({ method: method as 'GET', url }), `${route} is routed`);
    }
  });

  test('the token endpoint documents every grant type the server announces, with its parameters', async () => {
    const metadata = (await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json() as {
      grant_types_supported: string[];
    };
    const token = doc.paths['/oauth/token']!.post as {
      requestBody: { content: Record<string, { schema: { discriminator: { mapping: Record<string, string> } } }> };
    };
    const mapping = token.requestBody.content['application/x-www-form-urlencoded']!.schema.discriminator.mapping;
    assert.deepEqual(Object.keys(mapping).sort(), [...metadata.grant_types_supported].sort());
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    const text = JSON.stringify(schemas);
    for (const parameter of [
      'code',
      'redirect_uri',
      'code_verifier',
      'refresh_token',
      'email',
      'password',
      'username',
      'SAMLResponse',
      'SAMLAssertion',
      'assertion',
      'endOtherSessions',
      'client_id',
      'client_secret',
    ]) {
      assert.ok(text.includes(`"${parameter}"`), `${parameter} is documented`);
    }
  });

  test('every $ref resolves inside the document', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    assert.ok(refs.length > 0);
    for (const raw of refs) {
      const pointer = raw.slice('"$ref":"'.length, -1);
      assert.ok(pointer.startsWith('#/'), pointer);
      let node: unknown = doc;
      for (const part of pointer.slice(2).split('/'))
        node = (node as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
      assert.ok(node !== undefined, `${pointer} resolves`);
    }
  });
});
