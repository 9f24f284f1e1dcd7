#!/usr/bin/env node
// The sei-auth command. It runs the compiled JavaScript in dist/ (`npm run build`, which
// `npm install` runs) when that build is at least as new as every file in src/; otherwise it
// runs the TypeScript sources through tsx (a runtime dependency), so a checkout without a
// build, or with sources edited since, still runs exactly what is in src/.
import { readdirSync, statSync } from 'node:fs';
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

function buildIsCurrent() {
  try {
    return statSync(join(root, 'dist', '.built')).mtimeMs >= newestIn(join(root, 'src'));
  } catch {
    return false; // no build
  }
}

let runCli;
if (buildIsCurrent()) {
  ({ runCli } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ runCli } = await import('../src/cli/main.ts'));
}
const code = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  stdin: process.stdin,
});
if (code !== 0) process.exitCode = code;
