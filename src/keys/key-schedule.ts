import type { SigningKeyRecord } from '../store/store.ts';

/**
 * Where each signing key stands at `now`, from its times alone (so every instance reading the
 * same rows agrees, and nothing has to be written when a key comes or goes by itself):
 *
 * - `pending`: published, signs from `activatesAt`;
 * - `active`: of the keys of its algorithm that have taken over (activated, and not retired
 *   before that), the latest unretired one — at most one per algorithm;
 * - `superseded`: it took over and a later key of its algorithm took over after it, at
 *   `supersededAt`; the key service keeps it published while tokens it signed may be valid;
 * - `retired`: an operator retired it.
 */
export type KeyState = 'pending' | 'active' | 'superseded' | 'retired';

export interface ScheduledKey {
  record: SigningKeyRecord;
  state: KeyState;
  /** when the key that took over from it activated (superseded keys only) */
  supersededAt?: number;
}

const byActivation = (a: SigningKeyRecord, b: SigningKeyRecord) =>
  a.activatesAt - b.activatesAt || a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);

export function scheduleKeys(records: readonly SigningKeyRecord[], now: number): ScheduledKey[] {
  // A key retired while still pending never signed, so it never took over from anything.
  const tookOver = [...records]
    .filter((r) => r.activatesAt <= now && (r.retiredAt === null || r.retiredAt > r.activatesAt))
    .sort(byActivation);
  const active = new Map<string, SigningKeyRecord>();
  for (const r of tookOver) if (r.retiredAt === null) active.set(r.alg, r);
  return records.map((record): ScheduledKey => {
    if (record.retiredAt !== null) return { record, state: 'retired' };
    if (record.activatesAt > now) return { record, state: 'pending' };
    if (active.get(record.alg) === record) return { record, state: 'active' };
    const sameAlg = tookOver.filter((r) => r.alg === record.alg);
    const successor = sameAlg[sameAlg.indexOf(record) + 1];
    return { record, state: 'superseded', supersededAt: successor?.activatesAt ?? now };
  });
}
