/**
 * The layering rules of README's Architecture section, checked on every import in src/: faces
 * (http/, cli/) sit on top and nothing else imports them; saml/ is a leaf; only the faces reach
 * the composition root; the store knows nothing above it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

const SRC = resolve('src');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Each file (relative to src/) with the src-relative paths of the modules it imports, type-only imports included. */
const graph = sources(SRC).map((file) => {
  const text = readFileSync(file, 'utf8');
  const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    relative(SRC, resolve(dirname(file), m[1]!)),
  );
  return { file: relative(SRC, file), imports };
});

const top = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);

function violations(rule: (file: string, target: string) => boolean): string[] {
  return graph.flatMap(({ file, imports }) => imports.filter((target) => rule(file, target)).map((target) => `${file} → ${target}`));
}

describe('layers', () => {
  test('the import graph was read (a sanity check on the parser)', () => {
    assert.ok(graph.length > 50, `${graph.length} files`);
    assert.ok(graph.some(({ file, imports }) => file === 'http/app.ts' && imports.includes('composition-root.ts')));
  });

  test('nothing outside http/ imports from http/', () => {
    assert.deepEqual(
      violations((file, target) => top(target) === 'http' && top(file) !== 'http'),
      [],
    );
  });

  test('nothing outside cli/ imports from cli/', () => {
    assert.deepEqual(
      violations((file, target) => top(target) === 'cli' && top(file) !== 'cli'),
      [],
    );
  });

  test('saml/ is a leaf: it imports nothing of ours outside saml/', () => {
    assert.deepEqual(
      violations((file, target) => top(file) === 'saml' && top(target) !== 'saml'),
      [],
    );
  });

  test('only the faces import the composition root', () => {
    assert.deepEqual(
      violations((file, target) => target === 'composition-root.ts' && !['http', 'cli'].includes(top(file))),
      [],
    );
  });

  test('the store imports nothing above it (only the clock may be shared)', () => {
    assert.deepEqual(
      violations((file, target) => top(file) === 'store' && top(target) !== 'store' && target !== 'clock.ts'),
      [],
    );
  });

  test('grants and services never import the faces or the composition root', () => {
    const services = [
      'admin',
      'grants',
      'sessions',
      'tokens',
      'accounts',
      'clients',
      'idps',
      'sso',
      'events',
      'authorize',
      'throttle',
      'maintenance',
      'keys',
      'common',
      'crypto',
    ];
    assert.deepEqual(
      violations((file, target) => services.includes(top(file)) && ['http', 'cli', 'composition-root.ts'].includes(top(target))),
      [],
    );
  });
});
