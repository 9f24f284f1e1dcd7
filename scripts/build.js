#!/usr/bin/env node
// `npm run build` (also run by `prepare` on npm install / npm ci, and by `prepack`): compiles src/
// to dist/, which is all bin/sei-auth.js runs — the server and the CLI need no TypeScript loader.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsc = `${root}node_modules/typescript/bin/tsc`;
if (!existsSync(tsc)) {
  // An install without dev dependencies (e.g. `npm ci --omit=dev`): keep a build made earlier.
  if (existsSync(`${root}dist/.built`)) {
    console.log('sei-auth build: TypeScript (a dev dependency) is not installed; keeping the existing dist/.');
    process.exit(0);
  }
  console.error('sei-auth build: TypeScript (a dev dependency) is not installed, so dist/ cannot be built: run "npm install".');
  process.exit(1);
}
// A fresh dist/: no compiled file of a source that has since been deleted or renamed survives.
rmSync(`${root}dist`, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
if (result.status !== 0) {
  rmSync(`${root}dist`, { recursive: true, force: true });
  console.error('sei-auth build: tsc failed');
  process.exit(result.status ?? 1);
}
// The admin console's front end (web/console/), bundled into dist/console-ui/.
try {
  const { buildConsole } = await import('./build-console.js');
  await buildConsole();
} catch (error) {
  rmSync(`${root}dist`, { recursive: true, force: true });
  console.error(`sei-auth build: the admin console bundle failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
// Written last: bin/sei-auth.js compares the sources' times with this file's.
writeFileSync(`${root}dist/.built`, `${new Date().toISOString()}\n`);
