/**
 * bin/sei-auth.js runs the compiled dist/ only while that build is at least as new as every file
 * in src/, and the TypeScript sources through tsx otherwise (issue #8: the compiled server needs
 * ~30 MB less memory; an edit made after a build must never be shadowed by it). The real bin is
 * run from a scratch copy of the project layout whose src/ and dist/ each say which one ran.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const moduleSaying = (which: string) => `export async function runCli(args, io) { io.out('${which} ' + args.join(' ')); return 0; }\n`;

/** A scratch project: the real bin, node_modules linked, a src/ and (optionally) a dist/ that each name themselves. */
function project(options: { dist: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sei-auth-bin-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin/sei-auth.js'), join(dir, 'bin/sei-auth.js'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  mkdirSync(join(dir, 'src/cli'), { recursive: true });
  writeFileSync(join(dir, 'src/cli/main.ts'), moduleSaying('src'));
  if (options.dist) {
    mkdirSync(join(dir, 'dist/cli'), { recursive: true });
    writeFileSync(join(dir, 'dist/cli/main.js'), moduleSaying('dist'));
    writeFileSync(join(dir, 'dist/.built'), 'now\n');
  }
  return dir;
}

/** Sets a file's modification time `secondsAgo` in the past. */
function age(path: string, secondsAgo: number): void {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, t, t);
}

function run(dir: string): string {
  const result = spawnSync(process.execPath, [join(dir, 'bin/sei-auth.js'), 'hello'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

describe('bin/sei-auth.js: compiled build or sources', () => {
  test('runs dist/ when the build is newer than every source file', () => {
    const dir = project({ dist: true });
    age(join(dir, 'src/cli/main.ts'), 60);
    assert.equal(run(dir), 'dist hello');
  });

  test('runs the sources when any of them changed after the build', () => {
    const dir = project({ dist: true });
    age(join(dir, 'dist/.built'), 60);
    assert.equal(run(dir), 'src hello');
  });

  test('runs the sources when there is no build', () => {
    assert.equal(run(project({ dist: false })), 'src hello');
  });
});
