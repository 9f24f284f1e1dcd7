/**
 * The verifier bench's in-process rows, in a child pinned like the server under test (one core):
 * per algorithm, jose.jwtVerify alone with the public key (the ceiling) against verifier.verify
 * of a token it has not seen (verified-token cache disabled), alternately in short segments; then
 * the verified-token cache and the introspection cache on their own. Prints one JSON line.
 */
import { jwtVerify } from 'jose';
import { createVerifier } from '../packages/resource-server/src/index.ts';
import { type Alg, AUDIENCE, startBenchIssuer } from './verifier-issuer.ts';

const SEGMENT_MS = Number(process.env.SEGMENT_MS ?? 400);
const PAIRS = Number(process.env.PAIRS ?? 15);
/** Concurrent verifications: WebCrypto verifies off the main thread, so one at a time would measure the hop, not the work. */
const PARALLEL = 8;
const TOKENS = 256;

/** CPU microseconds (this process, all threads: WebCrypto's included) per operation of the last rate() run. */
let lastCpuPerOp = Number.NaN;

/** Runs `op` from PARALLEL loops for `ms`; operations per second (and lastCpuPerOp). */
async function rate(op: (i: number) => Promise<unknown>, ms: number): Promise<number> {
  let count = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (performance.now() < end) await op(count++);
    }),
  );
  const used = process.cpuUsage(cpu);
  lastCpuPerOp = (used.user + used.system) / count;
  return count / ((performance.now() - start) / 1000);
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
    await rate(bareOp, 500);
    await rate(verifierOp, 500);
    const bare: number[] = [];
    const mine: number[] = [];
    const bareCpu: number[] = [];
    const mineCpu: number[] = [];
    for (let p = 0; p < PAIRS; p++) {
      bare.push(await rate(bareOp, SEGMENT_MS));
      bareCpu.push(lastCpuPerOp);
      mine.push(await rate(verifierOp, SEGMENT_MS));
      mineCpu.push(lastCpuPerOp);
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
      algs: algs.map((a) => ({ ...a, medianRatio: median(a.ratios), cpuRatio: median(a.bareCpu) / median(a.verifierCpu) })),
      cached: { segments: cached, median: median(cached) },
      opaque: { segments: opaque, median: median(opaque) },
    }),
  );
} finally {
  await issuer.close();
}
