/**
 * The verifier bench's in-process rows, in a child pinned like the server under test (one core):
 * per algorithm, jose.jwtVerify alone with the public key (the ceiling) against verifier.verify
 * of a token it has not seen (verified-token cache disabled), alternately in short segments; then
 * the verified-token cache and the introspection cache on their own. Prints one JSON line.
 */
import { jwtVerify } from 'jose';
import { createVerifier } from '../packages/resource-server/src/index.ts';
import { type Alg, AUDIENCE, startBenchIssuer } from './verifier-issuer.ts';

const SEGMENT_MS = Number(process.env.SEGMENT_MS ?? 2000);
const PAIRS = Number(process.env.PAIRS ?? 7);
/** Concurrent verifications: WebCrypto verifies off the main thread, so one at a time would measure the hop, not the work. */
const PARALLEL = 8;
const TOKENS = 256;
/**
 * The two sides of a pair alternate in slices this long within the segment: the machine is shared,
 * and at this grain both see the same disturbance, which whole-second turns do not.
 */
const SLICE_MS = 20;

interface Side {
  ops: number;
  ms: number;
  cpuUs: number;
}

/** Runs `op` from PARALLEL loops for `ms` (every started op finishes), adding to `side`. */
async function slice(op: (i: number) => Promise<unknown>, ms: number, side: Side): Promise<void> {
  let count = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (performance.now() < end) await op(side.ops + count++);
    }),
  );
  const used = process.cpuUsage(cpu);
  side.ops += count;
  side.ms += performance.now() - start;
  side.cpuUs += used.user + used.system;
}

/** One pair: `a` and `b` alternately for SLICE_MS each over `ms`; each side's ops/s and CPU µs per op. */
async function interleaved(a: (i: number) => Promise<unknown>, b: (i: number) => Promise<unknown>, ms: number) {
  const sa: Side = { ops: 0, ms: 0, cpuUs: 0 };
  const sb: Side = { ops: 0, ms: 0, cpuUs: 0 };
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await slice(a, SLICE_MS, sa);
    await slice(b, SLICE_MS, sb);
  }
  return {
    a: { rate: (1000 * sa.ops) / sa.ms, cpu: sa.cpuUs / sa.ops },
    b: { rate: (1000 * sb.ops) / sb.ms, cpu: sb.cpuUs / sb.ops },
  };
}

/** A tight loop of one operation at a time (the cached paths never leave the thread): operations per second. */
async function serialRate(op: (i: number) => Promise<unknown>, ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let j = 0; j < 1000; j++) await op(count++);
  }
  return count / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const issuer = await startBenchIssuer();
try {
  const algs: Array<{ alg: Alg; bare: number[]; verifier: number[]; ratios: number[]; bareCpu: number[]; verifierCpu: number[] }> = [];
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
    const tokens = await Promise.all(Array.from({ length: TOKENS }, (_, i) => issuer.sign(alg, i)));
    const headers = tokens.map((t) => `Bearer ${t}`);
    const key = issuer.publicKeys[alg];
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, verifiedCache: { size: 0 } });
    const bareOp = (i: number) => jwtVerify(tokens[i % TOKENS]!, key);
    const verifierOp = (i: number) => verifier.verify(headers[i % TOKENS]!);
    // Warm-up (and the one JWKS fetch).
    await interleaved(bareOp, verifierOp, 1000);
    const bare: number[] = [];
    const mine: number[] = [];
    const bareCpu: number[] = [];
    const mineCpu: number[] = [];
    for (let p = 0; p < PAIRS; p++) {
      const pair = await interleaved(bareOp, verifierOp, SEGMENT_MS);
      bare.push(pair.a.rate);
      bareCpu.push(pair.a.cpu);
      mine.push(pair.b.rate);
      mineCpu.push(pair.b.cpu);
    }
    algs.push({ alg, bare, verifier: mine, ratios: mine.map((m, i) => m / bare[i]!), bareCpu, verifierCpu: mineCpu });
  }

  // The verified-token cache: every token verified once beforehand, then presented again and again.
  const cachedVerifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
  const cachedTokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => issuer.sign('ES256', i)));
  const cachedHeaders = cachedTokens.map((t) => `Bearer ${t}`);
  for (const h of cachedHeaders) await cachedVerifier.verify(h);
  await serialRate((i) => cachedVerifier.verify(cachedHeaders[i % 1000]!), 500);
  const cached: number[] = [];
  for (let p = 0; p < PAIRS; p++) cached.push(await serialRate((i) => cachedVerifier.verify(cachedHeaders[i % 1000]!), SEGMENT_MS));

  // Opaque tokens from the introspection cache (each introspected once beforehand).
  const opaqueVerifier = createVerifier({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    clientId: 'rs_bench',
    clientSecret: 'rs_bench_secret',
    introspection: { cacheTtlMs: 600_000 },
  });
  const opaqueHeaders = Array.from({ length: 1000 }, (_, i) => `Bearer ${issuer.opaque(i)}`);
  for (const h of opaqueHeaders) await opaqueVerifier.verify(h);
  await serialRate((i) => opaqueVerifier.verify(opaqueHeaders[i % 1000]!), 500);
  const opaque: number[] = [];
  for (let p = 0; p < PAIRS; p++) opaque.push(await serialRate((i) => opaqueVerifier.verify(opaqueHeaders[i % 1000]!), SEGMENT_MS));

  console.log(
    JSON.stringify({
      parallel: PARALLEL,
      segmentMs: SEGMENT_MS,
      sliceMs: SLICE_MS,
      algs: algs.map((a) => ({ ...a, medianRatio: median(a.ratios), cpuRatio: median(a.bareCpu) / median(a.verifierCpu) })),
      cached: { segments: cached, median: median(cached) },
      opaque: { segments: opaque, median: median(opaque) },
    }),
  );
} finally {
  await issuer.close();
}
