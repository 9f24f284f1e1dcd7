/**
 * Complexity bounds, checked before xml-crypto runs. Its XPath-based reference lookup and
 * comment stripping cost ~20 µs per node, and comment stripping is quadratic: within the 64 KiB
 * size limit, 5,000 nested elements or 2,000 comments cost 0.5–0.7 s of CPU per request. Real
 * SAML documents are about ten levels deep, have a few hundred elements at most (64 KiB of
 * attribute values is under a thousand), and no comments or processing instructions inside.
 * Exceeding any bound is reported as `too_large`.
 */
export const MAX_DEPTH = 32;
export const MAX_ELEMENTS = 2_000;
export const MAX_NODES = 5_000;
export const MAX_COMMENTS_AND_PIS = 16;
export const MAX_ATTRIBUTES_PER_ELEMENT = 32;
/**
 * Upper bound on `<` characters in the raw text: every element needs at most two tags, plus the
 * allowed comments and PIs, plus the prolog. Checked on the text so that the parser itself is
 * never handed a pathological tree (deep nesting parses in quadratic time).
 */
export const MAX_TAG_OPENINGS = 2 * MAX_ELEMENTS + MAX_COMMENTS_AND_PIS + 8;
