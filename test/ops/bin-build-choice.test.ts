/**
 * bin/sei-auth.js runs the compiled dist/ and nothing else (no TypeScript loader at run time). A
 * missing build, or in a source checkout a build older than src/, is one line on stderr and exit
 * code 1, never a stack trace, so that stale code never runs. The real bin is run from a scratch
 * copy of the project layout whose dist/ says that it ran.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A scratch project: the real bin, optionally a src/ (a source checkout) and a dist/ whose runCli names itself. */
function project(options: { src: boolean; dist: boolean; builtMarker?: boolean; exitCode?: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sei-auth-bin-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin/sei-auth.js'), join(dir, 'bin/sei-auth.js'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  if (options.src) {
    mkdirSync(join(dir, 'src/cli'), { recursive: true });
    writeFileSync(join(dir, 'src/cli/main.ts'), 'export {};\n');
    age(join(dir, 'src/cli/main.ts'), 60);
  }
  if (options.dist) {
    mkdirSync(join(dir, 'dist/cli'), { recursive: true });
    writeFileSync(
      join(dir, 'dist/cli/main.js'),
      `export async function runCli(args, io) { io.out('dist ' + args.join(' ')); return ${options.exitCode ?? 0}; }\n`,
    );
    if (options.builtMarker ?? true) writeFileSync(join(dir, 'dist/.built'), 'now\n');
  }
  return dir;
}

/** Sets a file's modification time `secondsAgo` in the past. */
function age(path: string, secondsAgo: number): void {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, t, t);
}

function run(dir: string) {
  return spawnSync(process.execPath, [join(dir, 'bin/sei-auth.js'), 'hello'], { encoding: 'utf8', timeout: 20_000 });
}

/** The bin refused to run: exit code 1, nothing on stdout, exactly one line on stderr, no stack trace. */
function assertRefused(result: ReturnType<typeof run>, expected: RegExp): void {
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^sei-auth: [^\n]+\n$/, `one line expected, got: ${result.stderr}`);
  assert.match(result.stderr, expected);
  assert.doesNotMatch(result.stderr, /\bat\s+\S+\s+\(|Error:|node:internal/);
}

describe('bin/sei-auth.js: runs dist/ only', () => {
  test('runs dist/ when the build is newer than every source file', () => {
    const result = run(project({ src: true, dist: true }));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'dist hello');
    assert.equal(result.stderr, '');
  });

  test('runs dist/ in an installed package (no src/ beside it)', () => {
    const result = run(project({ src: false, dist: true, builtMarker: false }));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'dist hello');
  });

  test("passes the command's exit code on", () => {
    assert.equal(run(project({ src: true, dist: true, exitCode: 3 })).status, 3);
  });

  test('no dist/: one line saying how to build it, exit code 1', () => {
    assertRefused(run(project({ src: true, dist: false })), /dist\/ is missing — run "npm run build" \(npm install runs it\)/);
    assertRefused(run(project({ src: false, dist: false })), /dist\/ is missing/);
  });

  test('a source changed after the build: one line saying dist/ is stale, exit code 1', () => {
    const dir = project({ src: true, dist: true });
    age(join(dir, 'dist/.built'), 120);
    writeFileSync(join(dir, 'src/cli/other.ts'), 'export {};\n'); // newer than the build
    assertRefused(run(dir), /dist\/ is older than src\/ — run "npm run build"/);
  });

  test('an unfinished build (no dist/.built) in a source checkout counts as stale', () => {
    assertRefused(run(project({ src: true, dist: true, builtMarker: false })), /dist\/ is older than src\//);
  });
});
