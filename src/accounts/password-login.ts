import type { Clock } from '../clock.ts';
import { MAX_PASSWORD_LENGTH, verifyPassword } from '../crypto/passwords.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import type { Store, User } from '../store/store.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';

/**
 * The one email + password check, shared by the token endpoint's password login and the
 * authorize page: the attempt is first reserved with the login throttle (a locked account or IP
 * is refused without checking the password — locked also by attempts still being checked, once
 * they use up the budget), then exactly one argon2id verify whatever the outcome, then the
 * attempt is settled; a 'login_failed' event records every password that was checked and refused.
 */
export interface PasswordLoginDeps {
  store: Store;
  clock: Clock;
  /** absent only in tests that exercise the check without throttling */
  throttle?: LoginThrottle;
  /** the argon2id verify (crypto/passwords.ts); injectable so tests can count the work done */
  verify?: PasswordVerifier;
}

export type PasswordVerifier = (storedHash: string | null, password: string) => Promise<boolean>;

export interface PasswordLoginAttempt {
  email: string;
  password: string;
  clientId: string;
  context: EventContext;
}

/**
 * The user whose password matches, or undefined (unknown email, wrong password, disabled user).
 * A right password that was let in is always accepted: the throttle only stops further checks.
 * @throws OAuthError slow_down (429) while the account or the client IP is locked
 */
export async function checkPasswordLogin(deps: PasswordLoginDeps, attempt: PasswordLoginAttempt): Promise<User | undefined> {
  const { email, password, clientId, context } = attempt;
  const ip = context.ip ?? 'unknown';
  const throttle = deps.throttle;
  // Reserved before the verify, so parallel guesses cannot all get checked before any is counted.
  const ticket = throttle ? await throttle.begin(email, ip) : undefined;
  const tooLong = email.length > 320 || password.length > MAX_PASSWORD_LENGTH;
  let user: User | undefined;
  let passwordOk: boolean;
  try {
    user = tooLong ? undefined : await deps.store.users.findByEmail(email);
    // Always one argon2id verify, against a decoy for unknown emails: same cost, same answer.
    passwordOk = tooLong ? false : await (deps.verify ?? verifyPassword)(user?.passwordHash ?? null, password);
  } catch (error) {
    // The store failed before the password could be judged: the attempt is not held against anyone.
    if (ticket) await throttle!.cancelled(ticket).catch(() => {});
    throw error;
  }
  // The email as the store spells it, for a known user only: what was typed into the email field
  // of a failed login (sometimes the password itself) is never written to the event log.
  const who = { ...context, clientId, userId: user?.id ?? null, email: user?.email ?? null };
  if (user && passwordOk && !user.disabled) {
    if (ticket) await throttle!.succeeded(ticket, { ...context, clientId }, { id: user.id, email: user.email });
    return user;
  }

  const reason = tooLong ? 'too_long' : !user ? 'unknown_user' : !passwordOk ? 'bad_password' : 'user_disabled';
  await deps.store.events.create(securityEvent('login_failed', deps.clock.now(), { ...who, reason }));
  if (ticket) await throttle!.failed(ticket, { ...context, clientId }, user ? { id: user.id, email: user.email } : null);
  return undefined;
}
