/**
 * Pre-signs SAML assertions for the SAML scenario (child process; two run side by side to halve
 * the wait: xml-crypto signing costs ~10 ms of CPU per document). Each has its own random ID, so
 * each is accepted exactly once by the server's replay cache. Writes a JSON array to OUT.
 */
import { writeFileSync } from 'node:fs';
import { b64url, signedAssertion } from '../test/support/test-idp.ts';

const count = Number(process.env.COUNT ?? 100);
const issuer = process.env.ISSUER ?? 'https://auth.bench.example';
const emails = (process.env.EMAILS ?? 'saml-0@bench.example').split(',');
const validForMs = Number(process.env.VALID_FOR_MS ?? 30 * 60_000);
const out = process.env.OUT!;

const now = Date.now();
const documents = Array.from({ length: count }, (_, i) =>
  b64url(
    signedAssertion({
      email: emails[i % emails.length]!,
      audience: issuer,
      recipient: `${issuer}/oauth/token`,
      now,
      notOnOrAfter: now + validForMs,
    }),
  ),
);
writeFileSync(out, JSON.stringify(documents));
console.log(JSON.stringify({ count: documents.length }));
