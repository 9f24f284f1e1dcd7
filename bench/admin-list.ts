/**
 * The admin API's list (issue #15): `GET /admin/v1/users?limit=100` on a SQLite store holding
 * BENCH_ADMIN_USERS users (default 100,000), through the real app in process (fastify inject,
 * so the time is the server's: routing, the Bearer check against the store, the keyset query,
 * the views, JSON). Pages are walked with the cursor from the newest to deeper ones, as a
 * console paging would. Target: p99 under 20 ms. Prints one JSON line.
 * `node --import tsx bench/admin-list.ts` runs it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { newId } from '../src/crypto/secrets.ts';
import { DEFAULT_ORG_ID } from '../src/store/migrations.ts';
import { basicAuth } from '../test/core/support.ts';
import { createHarness } from '../test/support/harness.ts';

const USERS = Number(process.env.BENCH_ADMIN_USERS ?? 100_000);
const REQUESTS = Number(process.env.BENCH_ADMIN_REQUESTS ?? 500);

const dir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'sei-auth-admin-'));
try {
  const h = await createHarness({ databaseUrl: `sqlite:${join(dir, 'admin.db')}` });
  const base = Date.now() - USERS * 10;
  for (let done = 0; done < USERS; ) {
    const n = Math.min(10_000, USERS - done);
    await h.store.transaction(async (tx) => {
      for (let i = 0; i < n; i++) {
        const k = done + i;
        await tx.users.create({
          id: newId('usr_'),
          orgId: DEFAULT_ORG_ID,
          email: `bench-${k}@admin.bench.example`,
          passwordHash: null,
          maxSessions: null,
          disabled: false,
          createdAt: base + k * 10,
        });
      }
    });
    done += n;
  }
  const svc = await h.services.clients.createClient({ name: 'bench automation', redirectUrls: [], service: true, scopes: ['admin'] });
  const tokenRes = await h.post(
    '/oauth/token',
    { grant_type: 'client_credentials' },
    { headers: { authorization: basicAuth(svc.client_id, svc.client_secret) } },
  );
  const token = tokenRes.json().access_token as string;
  const times: number[] = [];
  // CPU time of this process per request: the server's own work, without the waits a shared,
  // loaded machine adds to the wall-clock time.
  const cpuTimes: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < REQUESTS + 20; i++) {
    const url = `/admin/v1/users?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const res = await h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
    const page = res.json() as { items: unknown[]; next_cursor: string | null };
    if (page.items.length !== 100) throw new Error(`a page of ${page.items.length}`);
    // Walk 50 pages deep, then start over from the newest.
    cursor = i % 50 === 49 ? null : page.next_cursor;
    if (i >= 20) {
      // the first requests warm the JIT and the page cache
      times.push(ms);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  const q = (list: number[], p: number) => Math.round(list[Math.min(list.length - 1, Math.floor(p * list.length))]! * 100) / 100;
  const at = (p: number) => q(times, p);
  await h.close({ drop: false });
  console.log(
    JSON.stringify({
      users: USERS,
      requests: times.length,
      page: 100,
      p50_ms: at(0.5),
      p99_ms: at(0.99),
      max_ms: at(1),
      cpu_p50_ms: q(cpuTimes, 0.5),
      cpu_p99_ms: q(cpuTimes, 0.99),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
