#!/usr/bin/env node
// `npm run build` (also run by `npm install` / `npm ci` through the prepare script): compiles
// src/ to dist/ so that the server and the CLI start as plain JavaScript — no TypeScript loader
// at run time (on Node 20 tsx's loader runs in a thread of its own: ~36 MB of RSS and ~0.3 s
// of start-up per command; issue #8). bin/sei-auth.js runs dist/ only while it is at least as
// new as every source file, and otherwise the sources through tsx, so skipping this step, or
// editing src/ afterwards, never runs stale code.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsc = `${root}node_modules/typescript/bin/tsc`;
if (!existsSync(tsc)) {
  // An install without dev dependencies: bin/sei-auth.js runs the sources through tsx instead.
  console.log('sei-auth build: TypeScript is not installed (dev dependency); the sources will run through tsx.');
  process.exit(0);
}
// A fresh dist/: no compiled file of a source that has since been deleted or renamed survives.
rmSync(`${root}dist`, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
if (result.status !== 0) {
  rmSync(`${root}dist`, { recursive: true, force: true });
  console.error('sei-auth build: tsc failed');
  process.exit(result.status ?? 1);
}
// Written last: bin/sei-auth.js compares the sources' times with this file's.
writeFileSync(`${root}dist/.built`, `${new Date().toISOString()}\n`);
