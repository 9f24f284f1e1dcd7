import type { Document } from '@xmldom/xmldom';
import { DOMParser } from '@xmldom/xmldom';
import { MAX_TAG_OPENINGS } from './limits.ts';
import { reject } from './reject.ts';

/**
 * Any markup declaration: `<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`, `<!ATTLIST`, `<!NOTATION`, and any
 * spelling of them. Only comments and CDATA sections may start with `<!` in a SAML message.
 */
const MARKUP_DECLARATION = /<!(?!--|\[CDATA\[)/;
/** XInclude pulls in external documents; nothing here processes it, and nothing ever should. */
const XINCLUDE_NAMESPACE = 'http://www.w3.org/2001/XInclude';
const XML_DECLARATION_ENCODING = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']/;

/**
 * Refuses DTDs before any parser sees the text. SAML messages never need one, and a DTD is the
 * door to XXE (external entities and parameter entities fetching files or URLs) and to entity
 * expansion bombs ("billion laughs"). XInclude, the other way XML pulls in external content, is
 * refused alongside. This is a product rule rather than a SAML MUST; scanning the raw text means
 * no parser setting or library version can bring DTD processing back.
 */
export function refuseMarkupDeclarations(text: string): void {
  if (MARKUP_DECLARATION.test(text) || text.includes(XINCLUDE_NAMESPACE)) throw reject('doctype_forbidden');
  // The bytes were decoded as UTF-8; a document declaring another encoding was signed over
  // characters we did not decode, so it cannot be trusted to mean what the IdP meant.
  const declared = XML_DECLARATION_ENCODING.exec(text)?.[1];
  if (declared !== undefined && !/^utf-?8$/i.test(declared)) throw reject('not_xml');
}

class XmlSyntaxError extends Error {}

function stopOnAnything(): never {
  throw new XmlSyntaxError();
}

/**
 * Strict parse: any warning or error of the parser aborts (xmldom otherwise recovers from
 * malformed input and guesses a tree, and a guessed tree is where parser differentials live).
 * Line endings are normalized by the parser (XML 1.0 §2.11); callers pass the same text to
 * xml-crypto, which normalizes identically. The number of tags is bounded first (limits.ts), so
 * the parser is never handed a pathological tree.
 */
export function parseStrictXml(text: string): Document {
  let tags = 0;
  for (let i = text.indexOf('<'); i !== -1; i = text.indexOf('<', i + 1)) {
    if (++tags > MAX_TAG_OPENINGS) throw reject('too_large');
  }
  const parser = new DOMParser({ locator: false, onError: stopOnAnything });
  let doc: Document;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch {
    throw reject('not_xml');
  }
  if (doc.documentElement === null) throw reject('not_xml');
  return doc;
}
