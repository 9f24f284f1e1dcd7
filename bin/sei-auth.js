#!/usr/bin/env node
// The sei-auth command: runs the compiled JavaScript in dist/ (`npm run build`; `npm install` and
// `npm pack` run it). There is no TypeScript loader at run time, so a missing build, or in a
// source checkout a build older than src/, is reported in one line instead of running stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The newest modification time of any file under dir (about a hundred stats: ~1 ms). */
function newestIn(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** What keeps dist/ from running, or undefined when it can run. */
function buildProblem() {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    return 'dist/ is missing — run "npm run build" (npm install runs it)';
  }
  // Only a source checkout has src/; an installed package is just its build.
  if (!existsSync(join(root, 'src'))) return undefined;
  let built = 0;
  try {
    built = statSync(join(root, 'dist', '.built')).mtimeMs; // written last by scripts/build.js
  } catch {
    // an unfinished build: as stale as an old one
  }
  if (built < newestIn(join(root, 'src'))) return 'dist/ is older than src/ — run "npm run build"';
  return undefined;
}

const problem = buildProblem();
if (problem) {
  process.stderr.write(`sei-auth: ${problem}\n`);
  process.exitCode = 1;
} else {
  const { runCli } = await import('../dist/cli/main.js');
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    stdin: process.stdin,
    // `serve` starts the HTTP server; loaded only then, so the admin commands never load the HTTP stack.
    serve: async (env) => (await import('../dist/http/server.js')).startServer(env),
  });
  if (code !== 0) process.exitCode = code;
}
