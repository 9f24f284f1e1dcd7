/** Small statistics helpers shared by the ceilings' child processes and the report. */

/** The p-th percentile (0–100) of `values` (milliseconds), nearest-rank; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface LoopResult {
  /** req/s of every segment (the best is reported) */
  segments?: number[];
  ops: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of this process (all threads) per operation, microseconds */
  cpuPerRequest: number;
}

/**
 * Runs `op` from `parallel` concurrent loops for `seconds` split into `segments` runs, after
 * `warmupSeconds` unmeasured; every started operation finishes before a segment ends. Reports
 * the best segment (the machine is shared and noisy; the HTTP runs are measured the same way).
 */
export async function timedLoops(
  op: (loop: number, i: number) => Promise<void>,
  parallel: number,
  seconds: number,
  warmupSeconds: number,
  segments = 1,
): Promise<LoopResult> {
  const run = async (durationMs: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const start = performance.now();
    const end = start + durationMs;
    let counter = 0;
    await Promise.all(
      Array.from({ length: parallel }, async (_, loop) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          try {
            await op(loop, counter++);
          } catch {
            errors++;
          }
          if (record) latencies.push(performance.now() - t0);
        }
      }),
    );
    const elapsed = (performance.now() - start) / 1000;
    return { latencies, errors, elapsed };
  };
  if (warmupSeconds > 0) await run(warmupSeconds * 1000, false);
  const results: LoopResult[] = [];
  for (let i = 0; i < segments; i++) {
    const cpu = process.cpuUsage();
    const { latencies, errors, elapsed } = await run((seconds * 1000) / segments, true);
    const used = process.cpuUsage(cpu);
    results.push({
      ops: latencies.length,
      seconds: elapsed,
      rps: latencies.length / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      errors,
      cpuPerRequest: (used.user + used.system) / latencies.length,
    });
  }
  const best = results.reduce((a, b) => (b.rps > a.rps ? b : a));
  return { ...best, errors: results.reduce((n, r) => n + r.errors, 0), segments: results.map((r) => r.rps) };
}

/**
 * A ceiling child either measures once and prints the result (one JSON line), or — started with
 * an IPC channel — warms up once and then measures one segment per `{ seconds }` message it is
 * sent, answering each with the result: the segments measured alongside a scenario then run in
 * a warm process (a fresh one per segment would measure JIT warm-up too).
 */
export async function serveCeiling(
  op: (loop: number, i: number) => Promise<void>,
  parallel: number,
  seconds: number,
  warmup: number,
  segments: number,
): Promise<void> {
  if (!process.send) {
    console.log(JSON.stringify(await timedLoops(op, parallel, seconds, warmup, segments)));
    return;
  }
  await timedLoops(op, parallel, warmup, 0, 1); // warm-up
  process.on('message', (message: { seconds: number }) => {
    void timedLoops(op, parallel, message.seconds, 0, 1).then((result) => process.send!(result));
  });
  process.send({ ready: true });
}
