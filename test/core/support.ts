/**
 * Helpers shared by the test/core suites: OAuth error assertions, HTTP Basic per RFC 6749
 * Appendix B, spawning the real `sei-auth` bin, and free ports for server processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LightMyRequestResponse } from 'fastify';
import { postForm as postShared, type ServerProcess, startServerProcess as startShared } from '../support/server-process.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/sei-auth.js', import.meta.url));

/** RFC 6749 Appendix B: id and secret are form-encoded, then joined with ':' and base64-encoded. */
export function basicAuth(clientId: string, clientSecret: string, encode: (s: string) => string = formEncode): string {
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`, 'utf8').toString('base64')}`;
}

/** application/x-www-form-urlencoded encoding of one value (space as '+'). */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** Percent-encodes every character: a valid, if unusual, form encoding of the value. */
export function percentEncodeAll(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** An RFC 6749 §5.2 error: the status, exactly {error, error_description}, JSON, no-store. */
export function assertOAuthError(res: LightMyRequestResponse, status: number, code: string): { error: string; error_description: string } {
  assert.equal(res.statusCode, status, `expected ${status} ${code}, got ${res.statusCode} ${res.body}`);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json() as { error: string; error_description: string };
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  assert.equal(body.error, code);
  assert.equal(typeof body.error_description, 'string');
  assert.ok(body.error_description.length > 0);
  return body;
}

/** The error description quotes none of the values the request carried. */
export function assertNoEcho(res: LightMyRequestResponse, submitted: readonly string[]): void {
  const text = res.body;
  for (const value of submitted) {
    if (value.length < 6) continue; // short values ("true", "x") are words of ordinary prose
    assert.ok(!text.includes(value), `the response echoes a submitted value: ${JSON.stringify(value)} in ${text}`);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/sei-auth.js …args` to completion, with `input` on its standard input. */
export function runBin(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, LOG_LEVEL: 'warn', ...options.env })) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sei-auth ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** With --json a command prints exactly one JSON object (one line) on stdout. */
export function singleJson(result: CliResult): Record<string, unknown> {
  assert.equal(result.code, 0, `exit ${result.code}; stderr: ${result.stderr}`);
  const lines = result.stdout.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `expected one line of JSON, got: ${result.stdout}`);
  const value: unknown = JSON.parse(lines[0]!);
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), 'stdout is not a JSON object');
  return value as Record<string, unknown>;
}

export { freePort, type ServerProcess } from '../support/server-process.ts';

/** `sei-auth serve` as its own process (info-level logs: some tests read the start-up line). */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  return startShared({ LOG_LEVEL: 'info', ...env });
}

/** POSTs a form to a listening server; `body` is the parsed JSON answer. */
export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await postShared(url, form, headers);
  return { status: res.status, body: res.json };
}

/**
 * The same command tree run inside this process (src/cli/main.ts runCli), for suites that repeat
 * the spawned-bin checks against another store without paying a process start per command.
 */
export async function runCliInProcess(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliResult> {
  const { runCli } = await import('../../src/cli/main.ts');
  const { Readable } = await import('node:stream');
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
    out: (s) => (stdout += `${s}\n`),
    err: (s) => (stderr += `${s}\n`),
    stdin: Readable.from([Buffer.from(options.input ?? '')]),
  });
  return { code, stdout, stderr };
}

/** A failed command: non-zero exit, nothing on stdout, a message on stderr. */
export function assertFails(result: CliResult, stderrPattern?: RegExp): void {
  assert.notEqual(result.code, 0, `expected a non-zero exit; stdout: ${result.stdout}`);
  assert.equal(result.stdout.trim(), '', 'nothing on stdout when a command fails');
  assert.ok(result.stderr.trim().length > 0, 'the error is on stderr');
  if (stderrPattern) assert.match(result.stderr, stderrPattern);
}

/** An email nobody else in the run uses. */
export function uniqueEmail(name: string): string {
  return `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}@example.com`;
}
