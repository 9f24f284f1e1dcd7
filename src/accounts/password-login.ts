import type { Clock } from '../clock.ts';
import { MAX_PASSWORD_LENGTH, verifyPassword } from '../crypto/passwords.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import type { Store, User } from '../store/store.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';

/**
 * The one email + password check, shared by the token endpoint's password login and the
 * authorize page: login throttling first (a locked account or IP is refused without checking
 * the password), then exactly one argon2id verify whatever the outcome, and a 'login_failed'
 * event for every password that was checked and refused.
 */
export interface PasswordLoginDeps {
  store: Store;
  clock: Clock;
  /** absent only in tests that exercise the check without throttling */
  throttle?: LoginThrottle;
  /** the argon2id verify (crypto/passwords.ts); injectable so tests can count the work done */
  verify?: (storedHash: string | null, password: string) => Promise<boolean>;
}

export interface PasswordLoginAttempt {
  email: string;
  password: string;
  clientId: string;
  context: EventContext;
}

/**
 * The user whose password matches, or undefined (unknown email, wrong password, disabled user).
 * @throws OAuthError slow_down (429) while the account or the client IP is locked, including when
 *   the lock started while this attempt was being verified
 */
export async function checkPasswordLogin(deps: PasswordLoginDeps, attempt: PasswordLoginAttempt): Promise<User | undefined> {
  const { email, password, clientId, context } = attempt;
  const ip = context.ip ?? 'unknown';
  const ticket = deps.throttle ? await deps.throttle.begin(email, ip) : undefined;
  const tooLong = email.length > 320 || password.length > MAX_PASSWORD_LENGTH;
  const user = tooLong ? undefined : await deps.store.users.findByEmail(email);
  // Always one argon2id verify, against a decoy for unknown emails: same cost, same answer.
  const passwordOk = tooLong ? false : await (deps.verify ?? verifyPassword)(user?.passwordHash ?? null, password);
  // The email as the store spells it, for a known user only: what was typed into the email field
  // of a failed login (sometimes the password itself) is never written to the event log.
  const who = { ...context, clientId, userId: user?.id ?? null, email: user?.email ?? null };
  if (user && passwordOk && !user.disabled) {
    if (ticket) {
      try {
        await deps.throttle!.succeeded(ticket);
      } catch (error) {
        // The right password, refused because a lock started while it was being verified: on record,
        // since it may be a guess that found the password.
        await deps.store.events.create(securityEvent('login_failed', deps.clock.now(), { ...who, reason: 'throttled' }));
        throw error;
      }
    }
    return user;
  }

  const reason = tooLong ? 'too_long' : !user ? 'unknown_user' : !passwordOk ? 'bad_password' : 'user_disabled';
  // The password was checked, so the failure is on record even when the throttle then refuses it.
  await deps.store.events.create(securityEvent('login_failed', deps.clock.now(), { ...who, reason }));
  if (ticket) await deps.throttle!.failed(ticket, { ...context, clientId }, user ? { id: user.id, email: user.email } : null);
  return undefined;
}
