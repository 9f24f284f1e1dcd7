#!/usr/bin/env node
// The sei-auth command. The sources are TypeScript, loaded through tsx (a runtime dependency)
// so the same files run on Node 20, 22 and 24 without a build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
const code = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  stdin: process.stdin,
});
if (code !== 0) process.exitCode = code;
