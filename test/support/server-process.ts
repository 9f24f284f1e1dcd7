/** Real server processes (`sei-auth serve`) for multi-instance, restart and shutdown tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TEST_KEY_ENCRYPTION_KEY } from './harness.ts';

const BIN = fileURLToPath(new URL('../../bin/sei-auth.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM, then wait for the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The KEY_ENCRYPTION_KEY server processes on PostgreSQL get unless a test sets one (even to ''): the harness's. */
export const TEST_KEY_ENCRYPTION_KEY_BASE64 = TEST_KEY_ENCRYPTION_KEY.toString('base64');

export async function startServerProcess(env: Record<string, string>, timeoutMs = 20_000): Promise<ServerProcess> {
  const port = await freePort();
  // PostgreSQL instances need a shared key-encryption key (contract §6); SQLite makes a key file.
  if (env.KEY_ENCRYPTION_KEY === undefined && /^postgres(ql)?:/.test(env.DATABASE_URL ?? '')) {
    env = { ...env, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY_BASE64 };
  }
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ISSUER: url, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}): ${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // The start-up line is written just after the port opens, so /readyz can answer before it
  // reaches this process's pipe: wait for it wherever the log level lets it through.
  const level = env.LOG_LEVEL ?? 'warn';
  if (['info', 'debug', 'trace'].includes(level)) {
    while (!output.includes(' listening on ') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      // A server that does not stop within its shutdown timeout is killed: tests must end.
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** POST a form over a real socket. */
export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, json, headers: res.headers };
}
