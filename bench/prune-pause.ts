/**
 * The pause pruning causes (issue #13, item 12): a SQLite store (synchronous FULL, as served)
 * holding BENCH_PRUNE_SESSIONS expired sessions (default 200,000), each with an access and a
 * refresh token, is pruned by the server's own maintenance run, in batches of 500. Reported: the
 * longest batch (the longest the write lock is held, so the longest a login waits for pruning),
 * the longest event-loop stall seen while it ran (what every request waits, SQLite's statements
 * running on the event loop) and the total time. Prints one
 * JSON line. `node --import tsx bench/prune-pause.ts` runs it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { systemClock } from '../src/clock.ts';
import { hashSecret, newId, newSecret } from '../src/crypto/secrets.ts';
import { DEFAULT_PRUNE_BATCH, runMaintenance } from '../src/maintenance/maintenance.ts';
import { openStore } from '../src/store/open-store.ts';
import { servicesFor } from '../test/support/harness.ts';

const SESSIONS = Number(process.env.BENCH_PRUNE_SESSIONS ?? 200_000);
const BATCH = Number(process.env.BENCH_PRUNE_BATCH ?? DEFAULT_PRUNE_BATCH);
const DAY = 86_400_000;

const dir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'sei-auth-prune-'));
try {
  const file = join(dir, 'prune.db');
  const store = await openStore({ databaseUrl: `sqlite:${file}`, now: Date.now(), sqliteSynchronous: 'FULL' });
  const services = servicesFor(store, systemClock);
  const user = await services.accounts.createUser({ email: 'prune@bench.example', password: 'bench-password-0123' });
  const client = await services.clients.createClient({ name: 'prune', redirectUrls: ['https://app.bench.example/cb'] });
  const expired = Date.now() - 10 * DAY;
  for (let done = 0; done < SESSIONS; ) {
    const n = Math.min(5000, SESSIONS - done);
    await store.transaction(async (tx) => {
      for (let i = 0; i < n; i++) {
        const id = newId('ses_');
        await tx.sessions.create({
          id,
          userId: user.id,
          clientId: client.client_id,
          grantType: 'password',
          redirectUrl: 'https://app.bench.example/cb',
          startedAt: expired - 3_600_000,
          expiresAt: expired,
          endedAt: null,
          endReason: null,
          scope: '',
          audience: null,
        });
        await tx.tokens.createAccess({
          hash: hashSecret(newSecret('access_token')),
          sessionId: id,
          expiresAt: expired,
          createdAt: expired,
          scope: '',
          audience: 'https://bench.example',
        });
        await tx.tokens.createRefresh({
          hash: hashSecret(newSecret('refresh_token')),
          sessionId: id,
          expiresAt: expired,
          createdAt: expired,
        });
      }
    });
    done += n;
  }
  const stalls = monitorEventLoopDelay({ resolution: 1 });
  stalls.enable();
  const started = performance.now();
  const report = await runMaintenance(store, systemClock, {
    eventRetentionDays: 90,
    throttleWindowMs: 900_000,
    sessionRetentionDays: 7,
    batchSize: BATCH,
  });
  const totalMs = performance.now() - started;
  stalls.disable();
  await store.close();
  console.log(
    JSON.stringify({
      sessions: SESSIONS,
      pruned: report.sessions,
      batchSize: BATCH,
      batches: report.batches,
      longestBatchMs: report.longestBatchMs,
      longestStallMs: Math.round(stalls.max / 1e5) / 10,
      totalMs: Math.round(totalMs),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
