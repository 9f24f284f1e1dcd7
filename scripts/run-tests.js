#!/usr/bin/env node
// `npm test`: lint (once enabled, below), type-check, build dist/, then every test/**/*.test.ts with node's
// own test runner (through tsx, since Node 20 neither strips types nor expands globs). Says plainly whether
// the PostgreSQL half of the suite runs (TEST_DATABASE_URL set) or is skipped.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) find(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
const files = only.length ? only : find('test');

if (process.env.TEST_DATABASE_URL) {
  console.log('PostgreSQL: TEST_DATABASE_URL is set, the suite runs against SQLite and PostgreSQL.');
} else {
  console.log('PostgreSQL: TEST_DATABASE_URL is not set, so the PostgreSQL suite is SKIPPED (SQLite only).');
}

// Lint and format first (biome): the house rules hold in every run, CI's included.
if (!only.length) {
  const lint = spawnSync(process.execPath, ['node_modules/@biomejs/biome/bin/biome', 'check', '--error-on-warnings', '.'], {
    stdio: 'inherit',
  });
  if (lint.status !== 0) {
    console.error('lint/format check failed: `npm run format` fixes what it can');
    process.exit(lint.status ?? 1);
  }
}
if (!only.length) {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { stdio: 'inherit' });
  // The console's front end has its own settings (DOM, Preact's JSX): web/console/tsconfig.json.
  const web =
    tsc.status === 0 &&
    spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'web/console'], { stdio: 'inherit' });
  if (tsc.status !== 0 || !web || web.status !== 0) {
    console.error('type check failed');
    process.exit(tsc.status ?? 1);
  }
}
// The processes the tests start (the server, the CLI) run bin/sei-auth.js, which runs dist/ only
// (and refuses a dist/ older than src/): build it, so that they run the current sources.
const build = spawnSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

// --test-timeout bounds each test file as a whole: test/ops/package-install.test.ts (npm pack + install,
// better-sqlite3 compiled from source) needs about a minute alone on an idle machine, but 3–4 minutes
// beside other files on a busy 2-core one (its npm install alone took 160 s there): 7 minutes.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=420000', ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' },
});
if (!process.env.TEST_DATABASE_URL) console.log('PostgreSQL suite skipped: set TEST_DATABASE_URL=postgres://… to run it.');
process.exit(result.status ?? 1);
