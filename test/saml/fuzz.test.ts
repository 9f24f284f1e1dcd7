/**
 * Property: whatever is done to a validly signed document, verifySamlBearer either refuses it
 * with a SamlRejection or returns exactly the identity the IdP signed. Never another user, never
 * another exception.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Document, Element } from '@xmldom/xmldom';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import fc from 'fast-check';
import { SamlRejection, verifySamlBearer } from '../../src/saml/verify-saml.ts';
import { b64, DEFAULT_EMAIL, responseWithSignedAssertion, signedAssertion, signedResponse, testIdp } from '../support/test-idp.ts';
import { ATTACKER_EMAIL, input, NOW } from './harness.ts';

const ID = '_fuzz_assertion';
const BASES: ReadonlyArray<{ name: string; xml: string; form: 'response' | 'either' }> = [
  { name: 'signed response', xml: signedResponse({ now: NOW, id: ID, responseId: '_fuzz_response' }), form: 'response' },
  { name: 'signed assertion in response', xml: responseWithSignedAssertion({ now: NOW, id: ID }), form: 'response' },
  {
    name: 'both signed',
    xml: signedResponse({ now: NOW, id: ID, responseId: '_fuzz_response', signAssertionToo: true }),
    form: 'response',
  },
  { name: 'bare assertion', xml: signedAssertion({ now: NOW, id: ID }), form: 'either' },
];

type Mutation =
  | { kind: 'flip'; at: number; ch: string }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'duplicate' | 'move'; from: number; to: number; pos: number }
  | { kind: 'delete'; at: number }
  | { kind: 'impersonate' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    ch: fc.constantFrom('<', '>', '"', '=', '/', ' ', '&', '!', '-', ':', 'a', 'Z', '0', '#', '_'),
  }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constantFrom('duplicate' as const, 'move' as const), from: fc.nat(), to: fc.nat(), pos: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.constant({ kind: 'impersonate' as const }),
);

const ATTRIBUTE = /([A-Za-z_][\w:.-]*)="([^"]*)"/g;

function tryParse(xml: string): Document | undefined {
  try {
    const doc = new DOMParser({ onError: () => undefined }).parseFromString(xml, 'text/xml');
    return doc.documentElement === null ? undefined : doc;
  } catch {
    return undefined;
  }
}

function allElements(root: Element): Element[] {
  const out: Element[] = [];
  const walk = (el: Element): void => {
    out.push(el);
    for (let n = el.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === 1) walk(n as Element);
  };
  walk(root);
  return out;
}

function contains(ancestor: Element, node: Element): boolean {
  for (let n: Element | null = node; n !== null; n = n.parentNode as Element | null) if (n === ancestor) return true;
  return false;
}

function apply(xml: string, m: Mutation): string {
  switch (m.kind) {
    case 'flip': {
      const at = m.at % xml.length;
      return xml.slice(0, at) + m.ch + xml.slice(at + 1);
    }
    case 'swap': {
      // Swap the values of two attributes anywhere in the text (IDs, URIs, instants, algorithms...).
      const found = [...xml.matchAll(ATTRIBUTE)];
      if (found.length < 2) return xml;
      const a = found[m.a % found.length] as RegExpMatchArray;
      const b = found[m.b % found.length] as RegExpMatchArray;
      if (a.index === b.index) return xml;
      const [first, second] = (a.index ?? 0) < (b.index ?? 0) ? [a, b] : [b, a];
      const fi = first.index ?? 0;
      const si = second.index ?? 0;
      return (
        xml.slice(0, fi) +
        `${first[1]}="${second[2]}"` +
        xml.slice(fi + first[0].length, si) +
        `${second[1]}="${first[2]}"` +
        xml.slice(si + second[0].length)
      );
    }
    case 'impersonate':
      return xml.split(DEFAULT_EMAIL).join(ATTACKER_EMAIL);
    default: {
      const doc = tryParse(xml);
      if (doc === undefined) return xml;
      const elements = allElements(doc.documentElement as Element);
      if (m.kind === 'delete') {
        const victim = elements[1 + (m.at % (elements.length - 1))] as Element;
        victim.parentNode?.removeChild(victim);
      } else {
        const source = elements[1 + (m.from % (elements.length - 1))] as Element;
        const target = elements[m.to % elements.length] as Element;
        const node = m.kind === 'duplicate' ? (source.cloneNode(true) as Element) : source;
        if (m.kind === 'move' && contains(source, target)) return xml;
        const kids = target.childNodes;
        const before = kids.length === 0 ? null : kids.item(m.pos % (kids.length + 1));
        if (before === node) return xml;
        target.insertBefore(node, before);
      }
      return new XMLSerializer().serializeToString(doc);
    }
  }
}

describe('fuzz: mutated signed documents', () => {
  it('never yield another identity, never throw anything but SamlRejection (200 runs)', async () => {
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: BASES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (which, mutations) => {
        const base = BASES[which] as (typeof BASES)[number];
        const xml = mutations.reduce(apply, base.xml);
        try {
          const result = await verifySamlBearer(input(b64(xml), { form: base.form }));
          outcomes.add('accepted');
          assert.deepEqual(
            { email: result.email, issuer: result.issuer, assertionId: result.assertionId },
            { email: DEFAULT_EMAIL, issuer: testIdp().entityId, assertionId: ID },
          );
        } catch (err) {
          if (!(err instanceof SamlRejection)) throw err;
          outcomes.add(err.reason);
        }
      }),
      { numRuns: 200 },
    );
    // The mutations reach past the first gate: several different checks fired (typically
    // signature_invalid, not_xml, invalid, unknown_issuer, duplicate_id, ... and some accepted
    // documents whose mutation hit only unsigned or ignored bytes such as KeyInfo).
    assert.ok(outcomes.size >= 3, `only ${[...outcomes].join(', ')}`);
  });

  it('the unmutated bases are all accepted (the property above is not vacuous)', async () => {
    for (const base of BASES) {
      const result = await verifySamlBearer(input(b64(base.xml), { form: base.form }));
      assert.equal(result.assertionId, ID, base.name);
      assert.equal(result.email, DEFAULT_EMAIL, base.name);
    }
  });

  it('arbitrary parameter strings only ever produce SamlRejection (200 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.base64String({ maxLength: 400 }),
          fc.string({ maxLength: 300 }).map((s) => b64(`<samlp:Response>${s}`)),
        ),
        async (encoded) => {
          await assert.rejects(verifySamlBearer(input(encoded, { form: 'either' })), SamlRejection);
        },
      ),
      { numRuns: 200 },
    );
  });
});
