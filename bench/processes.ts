/**
 * Child processes of the benchmark: spawning (optionally pinned to a core with `taskset`),
 * waiting for readiness, reading memory from /proc, and killing every child we started — by
 * PID, also when the run fails or is interrupted.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = fileURLToPath(new URL('../bin/sei-auth.js', import.meta.url));

export interface Pinning {
  enabled: boolean;
  /** core for the server and the ceilings' child processes */
  serverCore: number;
  /** core for this process (the load generator) */
  loadCore: number;
  reason: string;
}

function hasTaskset(): boolean {
  return spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** BENCH_PIN=0 turns pinning off; it is also off without taskset or with fewer than 2 cores. */
/** The machine's cores (not this process's affinity, which pinning narrows). */
export function coreCount(): number {
  return cpus().length;
}

export function decidePinning(env: NodeJS.ProcessEnv): Pinning {
  const off = (reason: string): Pinning => ({ enabled: false, serverCore: 0, loadCore: 1, reason });
  if (env.BENCH_PIN === '0') return off('BENCH_PIN=0');
  if (coreCount() < 2) return off(`only ${coreCount()} core(s)`);
  if (!hasTaskset()) return off('taskset not found');
  return { enabled: true, serverCore: 0, loadCore: 1, reason: 'taskset' };
}

/** Pins this process (all its threads, so libuv's pool too) to one core, or to all cores. */
export function pinSelf(cores: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cores} ${process.pid} failed`);
}

export function allCores(): string {
  return `0-${coreCount() - 1}`;
}

const children = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL), by PID. Safe to call more than once. */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

let installed = false;
/** On exit, on Ctrl-C and on an uncaught failure, no child is left behind. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

export interface Child {
  child: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code */
  stop(graceMs?: number): Promise<number | null>;
}

/** Spawns `node <args>`, pinned to `core` when given; the child's PID is node's (taskset execs). */
export function spawnNode(args: string[], options: { env?: NodeJS.ProcessEnv; core?: number; pin: Pinning; ipc?: boolean }): Child {
  const pinned = options.pin.enabled && options.core !== undefined;
  const command = pinned ? 'taskset' : process.execPath;
  const argv = pinned ? ['-c', String(options.core), process.execPath, ...args] : args;
  return spawnProgram(command, argv, options);
}

/** Spawns any program as a child killed with the others (killAllChildren); its output is kept. */
export function spawnProgram(command: string, argv: string[], options: { env?: NodeJS.ProcessEnv; ipc?: boolean } = {}): Child {
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: options.env ?? process.env,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  children.add(child);
  let output = '';
  const keep = (d: Buffer) => {
    output += d.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const pid = child.pid;
  return {
    child,
    pid,
    output: () => output,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

export { freePort } from '../test/support/server-process.ts';

/** Polls `url` until it answers 200 (or the child exits, or the deadline passes). */
export async function waitReady(child: Child, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.child.exitCode !== null) throw new Error(`child ${child.pid} exited early (${child.child.exitCode}):\n${child.output()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** VmRSS and VmHWM (peak) of a process in bytes, from /proc/<pid>/status; undefined when unreadable. */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  const path = `/proc/${pid}/status`;
  if (!existsSync(path)) return undefined;
  try {
    const status = readFileSync(path, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Runs a node script to completion in a child (pinned like the server) and parses its last stdout line as JSON. */
export async function runNodeJson<T>(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; core?: number; pin: Pinning; timeoutMs: number },
): Promise<T> {
  const child = spawnNode(args, options);
  const timer = setTimeout(() => void child.stop(1000), options.timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  const lines = child.output().trim().split('\n');
  if (code !== 0) throw new Error(`${args.join(' ')} failed (${code}):\n${child.output()}`);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]!) as T;
    } catch {
      // not the result line
    }
  }
  throw new Error(`${args.join(' ')} printed no JSON result:\n${child.output()}`);
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; NaN when unreadable. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/** User and system CPU seconds of a process, separately. */
export function cpuSplitOf(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
}
