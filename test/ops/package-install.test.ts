/**
 * The package installs and runs as a user gets it: `npm pack` (whose prepack script builds dist/)
 * in a scratch copy of the checkout, `npm install` of the tarball into an empty folder, then
 * `npx sei-auth serve` answering HTTP and `npx sei-auth --version`. The installed package must
 * need no TypeScript tooling. Also `import … from 'sei-auth/resource-server'` from the installed
 * tarball (JavaScript and its .d.ts); test/resource-server/package-alone.test.ts installs the
 * verifier's own workspace package without the server. Skipped only when npm itself is not available.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8', timeout: 30_000 });
const skip =
  npmVersion.error || npmVersion.status !== 0 ? `npm is not available (${npmVersion.error?.message ?? npmVersion.stderr.trim()})` : false;

const work = mkdtempSync(join(tmpdir(), 'sei-auth-pack-'));
/** Every process group started here, so that none outlives the test, whatever happens. */
const groups = new Set<ChildProcess>();
after(() => {
  for (const child of groups) stopGroup(child, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/**
 * The environment of a user's shell: without the npm_* variables of an enclosing `npm test`
 * (npm_config_local_prefix, for one, would point npm at this checkout), NODE_ENV or the test
 * runner's own variables.
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.toLowerCase().startsWith('npm_') && !keep.has(name.toLowerCase())) continue;
    if (name === 'NODE_ENV' || name.startsWith('NODE_TEST') || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command in a process group of its own to its end; kills the group after timeoutMs. */
function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => stopGroup(child, 'SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      groups.delete(child);
      if (signal) reject(new Error(`${command} ${args.join(' ')} was killed (${signal}) after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
      else resolve({ status, stdout, stderr });
    });
  });
}

async function npm(args: string[], cwd: string, timeoutMs: number): Promise<void> {
  const result = await run('npm', args, cwd, timeoutMs);
  assert.equal(result.status, 0, `npm ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
}

/** Starts `npx sei-auth serve` in its own process group; resolves with its URL once it logs that it listens. */
function serve(cwd: string, dbPath: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn('npx', ['--no', '--', 'sei-auth', 'serve'], {
    cwd,
    env: userEnv({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${dbPath}`, LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // npx → npm → sh → node: the group is killed as a whole
  });
  groups.add(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stopGroup(child, 'SIGKILL');
      reject(new Error(`sei-auth serve did not log that it listens within 30 s:\n${output}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sei-auth serve exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}

/** Signals the process group led by child (its PID, negated). */
function stopGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

test('npm pack, npm install of the tarball into an empty folder, npx sei-auth serve and --version', {
  skip,
  timeout: 400_000,
}, async (t) => {
  const started = performance.now();
  const lap = (what: string, from: number) => t.diagnostic(`${what}: ${((performance.now() - from) / 1000).toFixed(1)} s`);

  // A scratch copy of the checkout, without its build: the tarball's dist/ can only come from prepack.
  const checkout = join(work, 'checkout');
  const skipTop = new Set(['node_modules', 'dist', '.git', 'data', '.tmp']);
  cpSync(ROOT, checkout, {
    recursive: true,
    filter: (path) => {
      const rel = relative(ROOT, path);
      return !skipTop.has(rel.split(sep)[0]!) && !/\.(tgz|db|db-wal|db-shm)$/.test(rel);
    },
  });
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');

  let from = performance.now();
  const packs = join(work, 'packs');
  mkdirSync(packs);
  await npm(['pack', '--pack-destination', packs], checkout, 120_000);
  const tarballs = readdirSync(packs).filter((name) => name.endsWith('.tgz'));
  assert.deepEqual(tarballs, [`sei-auth-${VERSION}.tgz`]);
  lap('npm pack (prepack builds dist/)', from);

  // An empty folder, except for a package.json that keeps npm from taking an enclosing folder for the project.
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'sei-auth-install-check', private: true })}\n`);
  from = performance.now();
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(packs, tarballs[0]!)], app, 200_000);
  lap('npm install of the tarball', from);

  const installed = join(app, 'node_modules', 'sei-auth');
  assert.ok(existsSync(join(installed, 'dist', 'cli', 'main.js')), 'the tarball holds a built dist/');
  for (const absent of ['src', 'test', 'bench', 'scripts'])
    assert.ok(!existsSync(join(installed, absent)), `${absent}/ is not in the tarball`);
  for (const devOnly of ['tsx', 'typescript', '@biomejs/biome']) {
    assert.ok(!existsSync(join(app, 'node_modules', devOnly)), `${devOnly} is not installed with the package`);
  }

  from = performance.now();
  const version = await run('npx', ['--no', '--', 'sei-auth', '--version'], app, 60_000);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), VERSION);
  lap('npx sei-auth --version', from);

  // The verifier subpath export: its JavaScript runs, and its .d.ts types a consumer (tsc of this checkout).
  from = performance.now();
  assert.ok(
    existsSync(join(installed, 'dist', 'resource-server', 'index.d.ts')),
    'the tarball ships the .d.ts of sei-auth/resource-server',
  );
  const consumer = join(app, 'consumer.mts');
  writeFileSync(
    consumer,
    [
      "import { createVerifier, expressMiddleware, requireScopes, seiAuth, TokenError, type VerifiedToken } from 'sei-auth/resource-server';",
      "const verifier = createVerifier({ issuer: 'http://127.0.0.1:9', audience: 'https://api.example' });",
      'const refused = await verifier.verify(undefined).catch((e: unknown) => e);',
      "if (!(refused instanceof TokenError) || refused.status !== 401) throw new Error('no 401');",
      'const use = (t: VerifiedToken): readonly string[] => t.scope;',
      "console.log(JSON.stringify({ ok: typeof seiAuth === 'function' && typeof expressMiddleware === 'function' && typeof requireScopes('a') === 'function' && typeof use === 'function', challenge: refused.wwwAuthenticate }));",
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
      files: ['consumer.mts'],
    }),
  );
  const typecheck = await run(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
    app,
    60_000,
  );
  assert.equal(typecheck.status, 0, `tsc of a consumer of sei-auth/resource-server:\n${typecheck.stdout}\n${typecheck.stderr}`);
  writeFileSync(
    join(app, 'consumer.mjs'),
    [
      "import { createVerifier, expressMiddleware, requireScopes, seiAuth, TokenError } from 'sei-auth/resource-server';",
      "const verifier = createVerifier({ issuer: 'http://127.0.0.1:9', audience: 'https://api.example' });",
      'const refused = await verifier.verify(undefined).catch((e) => e);',
      "if (!(refused instanceof TokenError) || refused.status !== 401) throw new Error('no 401');",
      "console.log(JSON.stringify({ ok: typeof seiAuth === 'function' && typeof expressMiddleware === 'function' && typeof requireScopes('a') === 'function', challenge: refused.wwwAuthenticate }));",
      '',
    ].join('\n'),
  );
  const imported = await run(process.execPath, ['consumer.mjs'], app, 30_000);
  assert.equal(imported.status, 0, imported.stderr);
  assert.deepEqual(JSON.parse(imported.stdout), { ok: true, challenge: 'Bearer realm="https://api.example"' });
  lap('import and type-check sei-auth/resource-server', from);

  from = performance.now();
  const server = await serve(app, join(work, 'x.db'));
  lap('npx sei-auth serve until it listens', from);
  try {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    const token = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(token.status, 400);
    assert.match(token.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await token.json()) as { error?: unknown };
    assert.equal(body.error, 'invalid_request');
  } finally {
    const exited = new Promise<void>((resolve) => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) resolve();
      else server.child.once('exit', () => resolve());
    });
    stopGroup(server.child, 'SIGTERM');
    const timer = setTimeout(() => stopGroup(server.child, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    stopGroup(server.child, 'SIGKILL'); // anything of the group still left
    groups.delete(server.child);
  }
  lap('total', started);
});
