/**
 * Ceiling C: SAML verification alone — `verifySamlBearer` (src/saml/verify-saml.ts: decode, DTD
 * guard, strict parse, envelope checks, xml-crypto signature verification, conditions and subject
 * checks) on pre-signed documents, with an in-memory IdP lookup instead of the store, and the same
 * parallelism as the SAML scenario, in a child process pinned like the server. No HTTP, no
 * database, no replay cache. Prints one JSON line: LoopResult (or serves segments over IPC, see serveCeiling).
 */
import { verifySamlBearer } from '../src/saml/verify-saml.ts';
import { b64url, signedAssertion, testIdp } from '../test/support/test-idp.ts';
import { serveCeiling } from './stats.ts';

const parallel = Number(process.env.PARALLEL ?? 8);
const seconds = Number(process.env.BENCH_CHILD_SECONDS ?? 8);
const warmup = Number(process.env.WARMUP ?? 1);
const segments = Number(process.env.SEGMENTS ?? 1);
const issuer = process.env.ISSUER ?? 'https://auth.bench.example';
const tokenEndpoint = `${issuer}/oauth/token`;

const idp = testIdp();
const documents = Array.from({ length: Number(process.env.DOCS ?? 200) }, (_, i) =>
  b64url(
    signedAssertion({
      email: `saml-${i}@bench.example`,
      audience: issuer,
      recipient: tokenEndpoint,
      notOnOrAfter: Date.now() + 30 * 60_000,
    }),
  ),
);
const trusted = { entityId: idp.entityId, certificates: [idp.certPem] };

await serveCeiling(
  async (_loop, i) => {
    await verifySamlBearer({
      encoded: documents[i % documents.length]!,
      form: 'either',
      audiences: [issuer, tokenEndpoint],
      recipient: tokenEndpoint,
      now: Date.now(),
      clockSkewMs: 60_000,
      findIdp: async (name) => (name === trusted.entityId ? trusted : undefined),
    });
  },
  parallel,
  seconds,
  warmup,
  segments,
);
