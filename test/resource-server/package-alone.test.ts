/**
 * An API can use the verifier without installing the server: the workspace package
 * packages/resource-server, packed (from the build `npm test` / `npm ci` made) and installed into
 * an empty folder, brings jose and nothing of sei-auth, and imports and runs. Skipped only when npm
 * itself is not available.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PACKAGE = fileURLToPath(new URL('../../packages/resource-server/', import.meta.url));
const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8', timeout: 30_000 });
const skip = npmVersion.error || npmVersion.status !== 0 ? 'npm is not available' : false;
const work = mkdtempSync(join(tmpdir(), 'sei-auth-rs-pack-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A user's shell: none of the npm_* variables of an enclosing `npm test`, no NODE_OPTIONS. */
function userEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.toLowerCase().startsWith('npm_') && !keep.has(name.toLowerCase())) continue;
    if (name === 'NODE_ENV' || name.startsWith('NODE_TEST') || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  return env;
}

/** Runs a command to its end in its own process group, killed (the group) after timeoutMs. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ status: number | null; out: string }> {
  const child = spawn(command, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

test('npm pack of packages/resource-server, installed alone: jose only, imports and runs', { skip, timeout: 180_000 }, async () => {
  assert.ok(existsSync(join(PACKAGE, 'dist', 'index.js')), 'packages/resource-server is built (npm run build)');
  const packs = join(work, 'packs');
  mkdirSync(packs);
  // --ignore-scripts: the build is there already, and prepack would rebuild it in this checkout.
  const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', packs], PACKAGE, 60_000);
  assert.equal(pack.status, 0, pack.out);
  const tarballs = readdirSync(packs).filter((name) => name.endsWith('.tgz'));
  assert.equal(tarballs.length, 1, tarballs.join(', '));

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'rs-install-check', private: true, type: 'module' })}\n`);
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(packs, tarballs[0]!)], app, 120_000);
  assert.equal(install.status, 0, install.out);
  const installed = join(app, 'node_modules', '@sei-auth', 'resource-server');
  assert.ok(existsSync(join(installed, 'dist', 'index.d.ts')), 'the .d.ts files are shipped');
  assert.ok(!existsSync(join(installed, 'src')), 'no sources in the tarball');
  assert.ok(!existsSync(join(app, 'node_modules', 'sei-auth')), 'the server is not installed with it');
  assert.ok(!existsSync(join(app, 'node_modules', 'fastify')), 'fastify is an optional peer, not installed with it');
  assert.ok(existsSync(join(app, 'node_modules', 'jose')), 'jose, its one dependency, is');

  writeFileSync(
    join(app, 'check.js'),
    [
      "import { createVerifier, expressMiddleware, requireScopes, seiAuth, TokenError } from '@sei-auth/resource-server';",
      "const e = await createVerifier({ issuer: 'http://127.0.0.1:9', audience: 'a' }).verify('Bearer a b').catch((x) => x);",
      "console.log(JSON.stringify([e instanceof TokenError && e.status, typeof seiAuth, typeof expressMiddleware, typeof requireScopes('s')]));",
      '',
    ].join('\n'),
  );
  const result = await run(process.execPath, ['check.js'], app, 30_000);
  assert.equal(result.status, 0, result.out);
  assert.deepEqual(JSON.parse(result.out.trim()), [400, 'function', 'function', 'function']);
});
