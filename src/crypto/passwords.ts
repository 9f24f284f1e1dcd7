import { availableParallelism } from 'node:os';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

/**
 * User passwords: argon2id with OWASP's parameters (m=19456 KiB, t=2, p=1). @node-rs/argon2
 * runs hash and verify on libuv's thread pool, so a login never blocks the event loop.
 */
// Algorithm.Argon2id is 2 (an ambient const enum, so it cannot be imported as a value).
const OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Longer input only costs the server time; no real password is this long. */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * A hash of a random password nobody knows, with the same parameters: verifying an unknown
 * email's attempt against it costs exactly what a wrong password costs, so timing does not
 * reveal which emails exist.
 */
const DECOY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$XljmCM3nyD8SQ+ljWjDJPQ$Jlt3DT6UBeAaimKYRLhB3i/WdoO0Q2GeOMYeLoLdQFc';

/**
 * At most this many argon2id computations run at once: one per core this process may use (its
 * CPU affinity counts), never more than libuv's pool. Each holds 19 MiB while it runs, and more
 * of them than cores adds no throughput — only memory (docs/benchmarks.md) and thread-pool slots taken from file I/O such as the
 * SQLite WAL flushes. The extra attempts wait here, in order, instead of in libuv's queue; each
 * still costs exactly one verify.
 */
const MAX_CONCURRENT = Math.max(1, Math.min(availableParallelism(), Number(process.env.UV_THREADPOOL_SIZE) || 4));
let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running < MAX_CONCURRENT) running++;
  else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over, see below
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password, OPTIONS));
}

/** Verifies against the stored hash, or against the decoy when there is none. Never throws. */
export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  try {
    const ok = await limited(() => verify(storedHash ?? DECOY_HASH, password));
    return ok && storedHash !== null;
  } catch {
    return false;
  }
}
