/**
 * pgbench ceilings for the PostgreSQL rows (issue #18): the statements the server sends for one
 * request, driven by pgbench alone (no HTTP, no Node) against the same scratch schema with as many
 * connections as the scenario. `-M extended`: parameters bound through unnamed statements, as
 * `pg` sends them. What each script adds to the server's SQL to pick its token is said below.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { storedKey } from '../src/crypto/secrets.ts';
import { FIND_ACCESS_SQL, FIND_REFRESH_SQL, ROTATE_FAMILY_PG } from '../src/store/sql/tokens-sql.ts';
import type { Store } from '../src/store/store.ts';
import { ROOT, spawnProgram } from './processes.ts';
import { type Seeded, startSessions } from './seed.ts';

const PGBENCH = '/usr/bin/pgbench';

/** SqlClientStore.find's statement: inline there, not a constant, so it is copied and checked against the source. */
const FIND_CLIENT_SQL = 'SELECT * FROM clients WHERE id = ?';

/** One pgbench run: its summary lines. */
export interface PgbenchRun {
  /** transactions per second, without the initial connection time */
  tps: number;
  latencyMs: number;
  transactions: number;
  failed: number;
}

/** A ceiling in the report: the best of its rounds and the scenario's rows against it. */
export interface PgbenchCeilingReport {
  tps: number;
  latencyMs: number;
  /** tps of every round */
  segments: number[];
  connections: number;
  /** 1-instance and 2-instance req/s (best rounds) over `tps` */
  ratioOne: number;
  ratioTwo: number;
  /** what was checked after the runs */
  notes: string[];
}

export interface PgbenchCeiling {
  /** one measured run of `seconds`; throws if pgbench fails or (refresh) a transaction rotated nothing */
  run(seconds: number): Promise<PgbenchRun>;
  /** what the runs so far were checked for */
  notes(): string[];
}

export function pgbenchAvailable(): boolean {
  return existsSync(PGBENCH);
}

/** `tps = … (without initial connection time)`, `latency average = … ms` and the transaction counts of pgbench's summary. */
export function parsePgbench(output: string): PgbenchRun {
  const tps = /^tps = ([\d.]+) \(without initial connection time\)$/m.exec(output);
  const latency = /^latency average = ([\d.]+) ms$/m.exec(output);
  const processed = /^number of transactions actually processed: (\d+)/m.exec(output);
  if (!tps || !latency || !processed) throw new Error(`pgbench printed no summary:\n${output}`);
  const failed = /^number of failed transactions: (\d+)/m.exec(output);
  return { tps: Number(tps[1]), latencyMs: Number(latency[1]), transactions: Number(processed[1]), failed: Number(failed?.[1] ?? 0) };
}

/** Replaces the store's `?` placeholders, in order, by pgbench variables or literals (exactly as many as there are). */
function bind(sql: string, values: readonly string[]): string {
  let i = 0;
  const out = sql.replace(/\?/g, () => values[i++] ?? '?');
  if (i !== values.length) throw new Error(`${values.length} values for ${i} placeholders in ${sql}`);
  return out;
}

/** The scratch schema's URL split for libpq: it does not decode `+` in a URI, so the search_path goes in PGOPTIONS. */
function connection(url: string): { url: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const options = u.searchParams.get('options');
  u.searchParams.delete('options');
  return { url: u.toString(), env: { ...process.env, ...(options ? { PGOPTIONS: options } : {}) } };
}

async function pgbench(
  url: string,
  script: string,
  connections: number,
  seconds: number,
  variables: Record<string, string>,
): Promise<PgbenchRun> {
  const target = connection(url);
  const defines = Object.entries(variables).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  const argv = ['-n', '-f', script, '-c', String(connections), '-j', '1', '-T', String(seconds), '-M', 'extended', ...defines, target.url];
  const child = spawnProgram(PGBENCH, argv, { env: target.env });
  const timer = setTimeout(() => void child.stop(1000), (seconds + 60) * 1000);
  const code = await child.exited;
  clearTimeout(timer);
  const output = child.output();
  // The first line of the error says what failed (the report shows it in place of the ceiling).
  const why = output.split('\n').find((l) => /error|abort|fatal/i.test(l)) ?? '';
  if (code !== 0) throw new Error(`pgbench exited with ${code}: ${why}\n${output.slice(-4000)}`);
  const run = parsePgbench(output);
  if (run.failed > 0 || run.transactions === 0) throw new Error(`pgbench: ${run.failed} failed of ${run.transactions}:\n${output}`);
  return run;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function checkClientSql(): void {
  const source = readFileSync(join(ROOT, 'src/store/sql/clients-sql.ts'), 'utf8');
  if (!source.includes(`'${FIND_CLIENT_SQL}'`))
    throw new Error(`src/store/sql/clients-sql.ts no longer reads a client with ${FIND_CLIENT_SQL}`);
}

export interface CeilingSetup {
  /** the scratch schema's URL (search_path in its `options`) */
  url: string;
  store: Store;
  seeded: Seeded;
  connections: number;
  /** where the script file goes */
  dir: string;
}

/**
 * POST /oauth/introspect's two reads: the caller's client row, then an access token joined with
 * its session and user. The token is one of `connections` valid ones (as many as the scenario
 * uses), picked at random; the only addition to the server's SQL is that pick, a primary-key
 * subquery on a helper table inside the token lookup (no extra round trip).
 */
export async function introspectionCeiling(s: CeilingSetup): Promise<PgbenchCeiling> {
  checkClientSql();
  const sessions = await startSessions(s.store, s.seeded, s.connections);
  await withClient(s.url, async (c) => {
    await c.query('CREATE TABLE bench_access (n INTEGER PRIMARY KEY, hash TEXT NOT NULL)');
    await c.query('INSERT INTO bench_access (n, hash) SELECT i, h FROM unnest($1::text[]) WITH ORDINALITY AS t(h, i)', [
      sessions.map((x) => storedKey(x.accessToken)),
    ]);
    await c.query('ANALYZE bench_access');
  });
  const script = join(s.dir, 'pgbench-introspection.sql');
  writeFileSync(
    script,
    [
      `\\set n random(1, ${sessions.length})`,
      `${bind(FIND_CLIENT_SQL, [':b_client'])};`,
      `${bind(FIND_ACCESS_SQL, ['(SELECT hash FROM bench_access WHERE n = :n)'])};`,
      '',
    ].join('\n'),
  );
  return {
    run: (seconds) => pgbench(s.url, script, s.connections, seconds, { b_client: s.seeded.clientId }),
    notes: () => [`${sessions.length} valid access tokens, one picked at random per transaction`],
  };
}

/**
 * A refresh rotation's three statements: the client row, the refresh token joined with its session
 * and user, and ROTATE_FAMILY_PG (one statement, one commit) with fresh keys, one chain per pgbench
 * client started from a real session. Added to the server's SQL: a primary-key read of the chain's
 * current token with two new keys and the time (one more round trip, read-only), and a CTE in the
 * rotation that moves the chain to its new token (a one-row update in the same commit).
 * The successor is a literal NULL, as for the bench's client (no grace window): pgbench cannot
 * bind a NULL, and an unnamed statement is planned with its values anyway.
 */
export async function refreshCeiling(s: CeilingSetup): Promise<PgbenchCeiling> {
  checkClientSql();
  const sessions = await startSessions(s.store, s.seeded, s.connections);
  await withClient(s.url, async (c) => {
    await c.query(`CREATE TABLE bench_chain (
      c INTEGER PRIMARY KEY, hash TEXT NOT NULL, session_id TEXT NOT NULL, scope TEXT NOT NULL, audience TEXT NOT NULL,
      family_expires BIGINT NOT NULL, access_ms BIGINT NOT NULL)`);
    // pgbench numbers its clients from 0 (:client_id). The rotation's values come from the
    // session as the server derives them: the family's expiry, the session's scope and audience,
    // and the access token's lifetime (that of the session's first access token).
    await c.query(
      `INSERT INTO bench_chain (c, hash, session_id, scope, audience, family_expires, access_ms)
       SELECT t.i - 1, r.hash, r.session_id, s.scope, COALESCE(s.audience, a.audience), r.expires_at, a.expires_at - a.created_at
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(refresh, access, i)
         JOIN refresh_tokens r ON r.hash = t.refresh JOIN sessions s ON s.id = r.session_id JOIN access_tokens a ON a.hash = t.access`,
      [sessions.map((x) => storedKey(x.refreshToken)), sessions.map((x) => storedKey(x.accessToken))],
    );
    await c.query('ANALYZE bench_chain');
  });
  // A stored key as storedKey makes them: 12 hex digits of milliseconds, then a 43-character base64url SHA-256.
  const key = `lpad(to_hex(ms), 12, '0') || translate(encode(sha256(gen_random_uuid()::text::bytea), 'base64'), '+/=', '-_')`;
  const helper = `SELECT hash AS b_old, scope AS b_scope, audience AS b_audience, family_expires AS b_family_expires,
       ms AS b_now, ms + access_ms AS b_access_expires, ${key} AS b_access, ${key} AS b_refresh
  FROM bench_chain, LATERAL (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms) AS t
 WHERE c = :client_id \\gset`;
  const rotate = bind(ROTATE_FAMILY_PG, [
    ':b_now',
    'NULL',
    ':b_old',
    ':b_old',
    'NULL',
    ':b_access',
    ':b_access_expires',
    ':b_now',
    ':b_scope',
    ':b_audience',
    ':b_refresh',
    ':b_family_expires',
    ':b_now',
    ':b_access_expires',
    ':b_access_expires',
  ]);
  const finalSelect = '\n  SELECT COUNT(*) AS won FROM rotated';
  if (!rotate.endsWith(finalSelect)) throw new Error('ROTATE_FAMILY_PG no longer ends with its COUNT of rotated rows');
  const moving = `${rotate.slice(0, -finalSelect.length)}, chain AS (
    UPDATE bench_chain SET hash = :b_refresh WHERE c = :client_id
  )${finalSelect}`;
  const script = join(s.dir, 'pgbench-refresh.sql');
  writeFileSync(
    script,
    [helper, `${bind(FIND_CLIENT_SQL, [':b_client'])};`, `${bind(FIND_REFRESH_SQL, [':b_old'])};`, `${moving};`, ''].join('\n'),
  );

  const rotated = () =>
    withClient(s.url, async (c) => {
      const { rows } = await c.query<{ rotated: number; live: number }>(
        `SELECT (SELECT COUNT(*) FROM refresh_tokens WHERE session_id IN (SELECT session_id FROM bench_chain) AND rotated_at IS NOT NULL)::int AS rotated,
                (SELECT COUNT(*) FROM bench_chain b JOIN refresh_tokens r ON r.hash = b.hash AND r.session_id = b.session_id
                  WHERE r.rotated_at IS NULL AND r.revoked_at IS NULL)::int AS live`,
      );
      return rows[0]!;
    });
  let rotations = 0;
  let transactions = 0;
  return {
    async run(seconds) {
      const before = await rotated();
      const run = await pgbench(s.url, script, s.connections, seconds, { b_client: s.seeded.clientId });
      const after = await rotated();
      // Every transaction must have rotated its chain's token and left the new one live: no no-ops.
      if (after.rotated - before.rotated !== run.transactions || after.live !== sessions.length)
        throw new Error(
          `pgbench refresh ceiling: ${run.transactions} transactions but ${after.rotated - before.rotated} rotations, ${after.live}/${sessions.length} chains live`,
        );
      rotations += after.rotated - before.rotated;
      transactions += run.transactions;
      return run;
    },
    notes: () => [
      `${sessions.length} chains from real sessions; ${rotations} rotations counted in refresh_tokens for ${transactions} transactions, every chain's token live afterwards`,
    ],
  };
}
