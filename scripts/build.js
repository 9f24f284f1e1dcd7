#!/usr/bin/env node
// `npm run build` (also run by `prepare` on npm install / npm ci, and by `prepack`): compiles src/
// to dist/, which is all bin/sei-auth.js runs — the server and the CLI need no TypeScript loader.
// It also builds the workspace package packages/resource-server (its dist/ with .d.ts files) and
// copies that build to dist/resource-server/, which the root's `sei-auth/resource-server` export
// points at: the root tarball then carries the verifier without depending on an unpublished package.
// `--package-only` builds just the workspace package (its own `npm run build` / prepack).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const packageOnly = process.argv.includes('--package-only');
const tsc = `${root}node_modules/typescript/bin/tsc`;
if (!existsSync(tsc)) {
  // An install without dev dependencies (e.g. `npm ci --omit=dev`): keep a build made earlier.
  if (existsSync(`${root}dist/.built`) || (packageOnly && existsSync(`${root}packages/resource-server/dist/index.js`))) {
    console.log('sei-auth build: TypeScript (a dev dependency) is not installed; keeping the existing dist/.');
    process.exit(0);
  }
  console.error('sei-auth build: TypeScript (a dev dependency) is not installed, so dist/ cannot be built: run "npm install".');
  process.exit(1);
}

function compile(project, out) {
  // A fresh output: no compiled file of a source that has since been deleted or renamed survives.
  rmSync(out, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  if (result.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    console.error(`sei-auth build: tsc -p ${project} failed`);
    process.exit(result.status ?? 1);
  }
}

const pkg = `${root}packages/resource-server/`;
compile(`${pkg}tsconfig.json`, `${pkg}dist`);
if (packageOnly) process.exit(0);

compile(`${root}tsconfig.build.json`, `${root}dist`);
cpSync(`${pkg}dist`, `${root}dist/resource-server`, { recursive: true });
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
