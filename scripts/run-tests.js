#!/usr/bin/env node
// `npm test`: type-check, build dist/, then every test/**/*.test.ts with node's own test runner (through tsx,
// since Node 20 neither strips types nor expands globs). Says plainly whether the PostgreSQL
// half of the suite runs (TEST_DATABASE_URL set) or is skipped.
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

if (!only.length) {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { stdio: 'inherit' });
  if (tsc.status !== 0) {
    console.error('type check failed');
    process.exit(tsc.status ?? 1);
  }
}
// The processes the tests start (the server, the CLI) run bin/sei-auth.js, which runs dist/ when
// it is current: build it, so that they run the same JavaScript an installed server runs.
const build = spawnSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
if (!process.env.TEST_DATABASE_URL) console.log('PostgreSQL suite skipped: set TEST_DATABASE_URL=postgres://… to run it.');
process.exit(result.status ?? 1);
