/**
 * `sei-auth --help`, `--help` on every command and subcommand (each with an example), and
 * `sei-auth --version` (issue #7). The command list comes from the CLI's own command tree, so
 * a command added later without an example fails here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildCli } from '../../src/cli/main.ts';

const BIN = fileURLToPath(new URL('../../bin/sei-auth.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function runBin(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: 'sqlite::memory:' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every command path of the tree: [], ['serve'], ['user'], ['user', 'create'] … (not commander's implicit help). */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return [prefix, ...command.commands.filter((c) => c.name() !== 'help').flatMap((c) => commandPaths(c, [...prefix, c.name()]))];
}

const paths = commandPaths(buildCli({ env: {}, out: () => {}, err: () => {}, stdin: process.stdin }));

describe('CLI help and version', () => {
  test('the command tree is what the contract names, and more', () => {
    const names = paths.map((p) => p.join(' '));
    for (const required of ['serve', 'org create', 'user create', 'client create', 'idp create', 'keys list', 'keys rotate', 'keys retire'])
      assert.ok(names.includes(required), required);
  });

  test('--help on the program and on every command and subcommand exits 0 and shows an example', async () => {
    const queue = [...paths];
    const failures: string[] = [];
    // A few at a time: each is a Node start-up.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let path = queue.shift(); path; path = queue.shift()) {
          const { code, stdout, stderr } = await runBin([...path, '--help']);
          const name = ['sei-auth', ...path].join(' ');
          if (code !== 0) failures.push(`${name} --help exited ${code}: ${stderr}`);
          else if (!stdout.includes(`Usage: ${name}`)) failures.push(`${name} --help: no usage line`);
          else if (!/\nExamples?:\n {2}\S/.test(stdout)) failures.push(`${name} --help: no example`);
        }
      }),
    );
    assert.deepEqual(failures, []);
    assert.ok(paths.length >= 20, `${paths.length} commands checked`);
  });

  test('--version and -v print the package version and exit 0', async () => {
    for (const flag of ['--version', '-v']) {
      const { code, stdout } = await runBin([flag]);
      assert.equal(code, 0);
      assert.equal(stdout.trim(), VERSION);
    }
  });
});
