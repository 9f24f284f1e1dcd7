/**
 * The jose signing ceiling of issue #14's JWT rows: CPU microseconds of one ES256 `SignJWT` of an
 * access token's claims, signed 32 at a time as the server signs under load (WebCrypto runs each
 * signature as a job off the event loop: one at a time, the hand-offs cost as much again as the
 * signature). The median of 3 rounds after a warm-up.
 *
 * Run as a child pinned to the server's core, like every other ceiling: the rows it is compared
 * with ran there, and the two cores of this shared machine were seen to differ by half (the same
 * loop took 85–90 µs on one and 47–52 µs on the other, minutes apart). Prints `{"signMicros": n}`.
 */
import { generateKeyPair, SignJWT } from 'jose';

const { privateKey } = await generateKeyPair('ES256');
// The claims of a user's access token as AccessTokenMinter makes them (src/tokens/access-token-minter.ts).
const claims = {
  iss: 'https://auth.bench.example',
  sub: 'usr_0123456789abcdef0123',
  aud: 'https://auth.bench.example',
  jti: `0193a5b1c2d3${'x'.repeat(32)}`,
  client_id: 'cl_0123456789abcdef0123',
  scope: 'openid profile',
  email: 'bench-user-1@bench.example',
  sid: `0193a5b1c2d3${'s'.repeat(16)}`,
};
const sign = () =>
  new SignJWT({ ...claims, iat: 1_700_000_000, exp: 1_700_003_600 })
    .setProtectedHeader({ alg: 'ES256', kid: 'k'.repeat(22), typ: 'at+jwt' })
    .sign(privateKey);

const round = async (n: number, atOnce: number) => {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i += atOnce) await Promise.all(Array.from({ length: atOnce }, sign));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
};
const median3 = async (n: number, atOnce: number) => {
  const rounds = [await round(n, atOnce), await round(n, atOnce), await round(n, atOnce)].sort((a, b) => a - b);
  return rounds[1]!;
};
await round(3200, 32); // warm-up
const signMicros = await median3(6400, 32);
const oneAtATimeMicros = await median3(2000, 1);
console.log(JSON.stringify({ signMicros, oneAtATimeMicros }));
