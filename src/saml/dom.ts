import type { Element, Node } from '@xmldom/xmldom';

/** DOM node types (numbers from the DOM standard; xmldom's own constants are not erasable syntax). */
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

export function isElement(node: Node | null | undefined): node is Element {
  return node != null && node.nodeType === ELEMENT_NODE;
}

/** Element children in document order (no text, comments, processing instructions). */
export function elementChildren(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (isElement(n)) out.push(n);
  }
  return out;
}

export function is(el: Element, ns: string, localName: string): boolean {
  return el.localName === localName && el.namespaceURI === ns;
}

/** Direct children with the given expanded name; never descendants (a loose `//` is how XSW wins). */
export function childrenNamed(parent: Element, ns: string, localName: string): Element[] {
  return elementChildren(parent).filter((el) => is(el, ns, localName));
}

/** The single direct child with that name; `undefined` when absent, `null` when there are several. */
export function onlyChild(parent: Element, ns: string, localName: string): Element | undefined | null {
  const found = childrenNamed(parent, ns, localName);
  if (found.length === 0) return undefined;
  return found.length === 1 ? found[0] : null;
}

/**
 * The text of an element that must hold text only. Returns `null` when it has element children:
 * CVE-2017-11428 showed that reading "the first text node" of a value split by a comment or a
 * child element yields a prefix the IdP never asserted. Comments are already gone here (the
 * signed content is canonicalized without comments), so the concatenation of all text is the
 * complete value.
 */
export function textOnly(el: Element): string | null {
  let text = '';
  for (let n = el.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) {
      text += (n as unknown as { data: string }).data;
    } else {
      return null;
    }
  }
  return text;
}

/** An attribute that is present (possibly empty), or `undefined`; `getAttribute` cannot tell. */
export function attr(el: Element, name: string): string | undefined {
  return el.hasAttribute(name) ? (el.getAttribute(name) ?? undefined) : undefined;
}
