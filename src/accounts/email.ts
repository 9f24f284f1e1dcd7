/**
 * The rules an email address must pass before a user is created with it (`user create`, SAML
 * just-in-time provisioning) and the rules an email domain must pass to be registered for an IdP
 * (`idp create --domains`).
 *
 * There is one normalisation, NFKC then lower-case: {@link emailKey}, the key users are stored,
 * found and kept unique by. It lives in the store (the lowest layer that needs it, for the unique
 * index); this module builds the creation rules on it.
 *
 * "Confusable" is decided without a confusables table, conservatively:
 *
 * - the address must not change under NFKC: compatibility forms (fullwidth `ａ`, the Kelvin sign
 *   U+212A, ligatures, superscripts) would otherwise create a second spelling of an address that
 *   normalises to someone else's;
 * - the local part is ASCII only (RFC 5322 dot-atom): every cross-script lookalike of a Latin
 *   letter (Cyrillic `а`, Greek `ο`) is outside ASCII, so none can appear in it;
 * - the domain is an ASCII hostname, its internationalised labels written as IDNA A-labels
 *   (`xn--…`). An A-label must decode to a label that encodes back to the same A-label, and must
 *   be single-script in the sense of UTS #39 §5.2 "Highly Restrictive" (one script, or Latin with
 *   Han and Japanese kana, Han with Bopomofo, or Han with Hangul): that refuses the mixed-script
 *   homographs such as `xn--pple-43d` (Cyrillic `а` + Latin `pple`).
 *
 * Not caught: a whole-script confusable (a label written entirely in Cyrillic letters that look
 * Latin). Such a domain can only enter through an operator (`user create`, `idp create
 * --domains`); an IdP creates users only inside the domains the operator registered for it.
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { emailKey } from '../store/store.ts';

export { emailKey };

/** RFC 5321 §4.5.3.1.1 / §4.5.3.1.2 / §4.1.2 (path limit 256 including the angle brackets). */
const MAX_LOCAL_PART = 64;
const MAX_DOMAIN = 253;
const MAX_ADDRESS = 254;

/** RFC 5322 §3.2.3 dot-atom of atext: no quoted local parts, no leading, trailing or double dots. */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** An LDH label (RFC 1123 §2.1): letters, digits, hyphens inside, 1 to 63 characters. */
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why an address or domain was refused, for the operator (never shown to an end user). */
export class EmailRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmailRefused';
  }
}

/** The domain part of an address after normalisation (what IdP domains are compared with). */
export function emailDomain(email: string): string {
  const key = emailKey(email);
  return key.slice(key.lastIndexOf('@') + 1);
}

/**
 * Checks an address for a new user; returns it trimmed (its case kept: it is shown back as typed,
 * and compared through {@link emailKey}). Throws {@link EmailRefused} with the reason.
 */
export function checkNewEmail(raw: string): string {
  const email = raw.trim();
  if (email.normalize('NFKC') !== email) {
    throw new EmailRefused(
      'the address changes under Unicode NFKC normalisation (compatibility characters such as fullwidth letters or the Kelvin sign); type it in plain ASCII',
    );
  }
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) throw new EmailRefused('an address is local-part@domain');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > MAX_LOCAL_PART) throw new EmailRefused(`the part before @ is longer than ${MAX_LOCAL_PART} characters`);
  if (email.length > MAX_ADDRESS) throw new EmailRefused(`the address is longer than ${MAX_ADDRESS} characters`);
  // Non-ASCII first, so that a Cyrillic `а` is named as what it is rather than as bad syntax.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point (ASCII only)
  if (/[^\x00-\x7f]/.test(local)) {
    throw new EmailRefused('the part before @ contains characters outside ASCII (a letter of another script can look like a Latin one)');
  }
  if (!DOT_ATOM.test(local)) {
    throw new EmailRefused("the part before @ may hold letters, digits, dots (not first, last or doubled) and !#$%&'*+/=?^_`{|}~- only");
  }
  checkDomainName(domain.toLowerCase(), 'the domain');
  return email;
}

/**
 * Checks an email domain an IdP vouches for (`--domains`); returns it in the stored form
 * (lower-case ASCII, internationalised labels as A-labels). Throws {@link EmailRefused}.
 */
export function checkIdpDomain(raw: string): string {
  const domain = raw.trim();
  if (domain === '') throw new EmailRefused('an empty domain name (check the commas)');
  if (domain.includes('*'))
    throw new EmailRefused(`${domain}: wildcards are not allowed; list each domain (subdomains are separate domains)`);
  if (domain.includes('@')) throw new EmailRefused(`${domain}: give the domain only (acme.example), not an address`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point (ASCII only)
  if (/[^\x00-\x7f]/.test(domain)) {
    const aLabel = domainToASCII(domain);
    throw new EmailRefused(
      aLabel === '' || aLabel === domain
        ? `${domain}: not a valid domain name`
        : `${domain}: write internationalised domains as IDNA A-labels: ${aLabel}`,
    );
  }
  const lower = domain.toLowerCase();
  checkDomainName(lower, domain);
  return lower;
}

/** A lower-case ASCII hostname of at least two labels, whose A-labels are valid and single-script. */
function checkDomainName(domain: string, name: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point (ASCII only)
  if (/[^\x00-\x7f]/.test(domain)) {
    throw new EmailRefused(`${name} contains characters outside ASCII; write an internationalised domain as its A-label (xn--…)`);
  }
  if (domain.length === 0 || domain.length > MAX_DOMAIN) throw new EmailRefused(`${name} is not a domain name`);
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LDH_LABEL.test(l))) {
    throw new EmailRefused(`${name} is not a domain name (labels of letters, digits and inner hyphens, separated by dots)`);
  }
  // A numeric top-level label is an IPv4 address, not a domain.
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) throw new EmailRefused(`${name} is an IP address, not a domain name`);
  for (const label of labels) {
    // RFC 5891 §4.2.3.1: hyphens in positions 3 and 4 are reserved for A-labels (`xn--`).
    if (label.slice(2, 4) === '--' && !label.startsWith('xn--'))
      throw new EmailRefused(`${name}: the label ${label} is not a valid A-label`);
    if (label.startsWith('xn--')) checkALabel(label, name);
  }
}

function checkALabel(label: string, name: string): void {
  const unicode = domainToUnicode(label);
  // An A-label that does not decode, or that encodes back differently (UTS #46 mapping), is not
  // the canonical form of any label.
  if (unicode === '' || unicode === label || domainToASCII(unicode) !== label || unicode.normalize('NFKC') !== unicode) {
    throw new EmailRefused(`${name}: the label ${label} is not a valid IDNA A-label`);
  }
  if (!singleScript(unicode)) {
    throw new EmailRefused(`${name}: the label ${label} (${unicode}) mixes scripts, as lookalike domains do`);
  }
}

/** The scripts a label may use (Unicode Script property), enough to tell mixed-script labels apart. */
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Georgian',
  'Hangul',
  'Ethiopic',
  'Cherokee',
  'Khmer',
  'Mongolian',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
] as const;
type Script = (typeof SCRIPTS)[number] | 'Other';
const SCRIPT_PATTERNS = SCRIPTS.map((s) => [s, new RegExp(`^\\p{Script=${s}}$`, 'u')] as const);
const NEUTRAL = /^[\p{Script=Common}\p{Script=Inherited}]$/u;

/** UTS #39 §5.2 "Highly Restrictive": the combinations a single-script label may still use. */
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<Script>> = [
  new Set<Script>(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set<Script>(['Latin', 'Han', 'Bopomofo']),
  new Set<Script>(['Latin', 'Han', 'Hangul']),
];

function singleScript(label: string): boolean {
  const scripts = new Set<Script>();
  for (const ch of label) {
    if (NEUTRAL.test(ch)) continue;
    scripts.add(SCRIPT_PATTERNS.find(([, re]) => re.test(ch))?.[0] ?? 'Other');
  }
  if (scripts.size <= 1) return true;
  return ALLOWED_MIXES.some((mix) => [...scripts].every((s) => mix.has(s)));
}
