import { reject } from './reject.ts';

const UTC_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Parses a SAML time value to epoch milliseconds.
 *
 * saml-core §1.3.3: all SAML time values are xs:dateTime and MUST be expressed in UTC; so only the
 * `Z` form is accepted, and an impossible date (Feb 30, hour 24) is refused instead of being rolled
 * over by `Date.UTC`. Fractions finer than a millisecond are truncated (§1.3.3: entities SHOULD NOT
 * rely on finer resolution). A malformed instant makes the whole assertion invalid: skipping the
 * check would silently drop a validity bound.
 */
export function parseSamlInstant(value: string): number {
  const m = UTC_DATE_TIME.exec(value);
  if (m === null) throw reject('invalid');
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const d = new Date(t);
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    d.getUTCHours() !== hour ||
    d.getUTCMinutes() !== minute ||
    d.getUTCSeconds() !== second
  ) {
    throw reject('invalid');
  }
  return t;
}
