/**
 * Ceiling B: raw argon2id verify throughput — @node-rs/argon2's `verify` alone, with the server's
 * parameters (m=19456 KiB, t=2, p=1) and the same parallelism as the login scenario, in a child
 * process pinned like the server. Prints one JSON line: LoopResult (or serves segments over IPC, see serveCeiling).
 */
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { serveCeiling } from './stats.ts';

const parallel = Number(process.env.PARALLEL ?? 8);
const seconds = Number(process.env.BENCH_CHILD_SECONDS ?? 8);
const warmup = Number(process.env.WARMUP ?? 1);
const segments = Number(process.env.SEGMENTS ?? 1);

const password = 'bench-password-0123';
// Same options as src/crypto/passwords.ts (Algorithm.Argon2id is 2).
const stored = await hash(password, { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 });
await serveCeiling(
  async () => {
    if (!(await verify(stored, password))) throw new Error('verify returned false');
  },
  parallel,
  seconds,
  warmup,
  segments,
);
