import { checkNewEmail, EmailRefused, emailDomain } from '../accounts/email.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../crypto/secrets.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import { type Idp, type Store, StoreConflictError, type User } from '../store/store.ts';

/**
 * Who a verified SAML assertion signs in: the one mapping of an IdP's asserted email to a user
 * of the IdP's organization, shared by the SAML bearer grant and the browser SSO's ACS.
 */

/** Rejections past the signature check that belong to the user mapping, not the document. */
export type MappingReason =
  | 'unknown_user'
  | 'user_not_in_org'
  | 'user_disabled'
  /** the email's domain is not one of the IdP's, or belongs to another IdP */
  | 'email_domain_not_allowed'
  /** a --jit IdP registered before domains existed: it no longer creates users */
  | 'jit_without_domains'
  /** a new user's email fails the creation rules (src/accounts/email.ts) */
  | 'invalid_email';

export class MappingRejection extends Error {
  readonly reason: MappingReason;
  constructor(reason: MappingReason) {
    super(reason);
    this.reason = reason;
  }
}

/** The user an IdP vouches for, created with --jit when unknown; throws {@link MappingRejection}. */
export async function mapSamlUser(deps: { store: Store; clock: Clock }, idp: Idp, email: string, context: EventContext): Promise<User> {
  // Contract §10: an IdP with domains vouches for addresses in those domains only, and a domain
  // belongs to one IdP. Checked before the user is looked up, for existing users too: an
  // assertion outside its IdP's domains is a claim no operator authorised, whoever it names.
  const owner = await deps.store.idps.findByDomain(emailDomain(email));
  const inDomains = owner !== undefined && owner.id === idp.id;
  const hasDomains = inDomains || (await deps.store.idps.listDomains(idp.id)).length > 0;
  if (!inDomains && (owner !== undefined || hasDomains)) throw new MappingRejection('email_domain_not_allowed');

  const existing = await deps.store.users.findByEmail(email);
  if (existing) {
    // The IdP vouches only for its own organization's users.
    if (existing.orgId !== idp.orgId) throw new MappingRejection('user_not_in_org');
    if (existing.disabled) throw new MappingRejection('user_disabled');
    return existing;
  }
  if (!idp.jit) throw new MappingRejection('unknown_user');
  // Contract §10: "with --jit, users are created only inside them". An IdP registered with --jit
  // before domains existed has none, so it creates nobody until `idp add-domain` gives it some.
  if (!hasDomains) throw new MappingRejection('jit_without_domains');
  let checked: string;
  try {
    checked = checkNewEmail(email);
  } catch (error) {
    if (error instanceof EmailRefused) throw new MappingRejection('invalid_email');
    throw error;
  }
  const user: User = {
    id: newId('usr_'),
    orgId: idp.orgId,
    email: checked,
    passwordHash: null,
    maxSessions: null,
    disabled: false,
    createdAt: deps.clock.now(),
  };
  try {
    await deps.store.transaction(async (tx) => {
      await tx.users.create(user);
      // Just-in-time provisioning leaves a trace: who was created, by which IdP.
      await tx.events.create(
        securityEvent('user_provisioned', user.createdAt, { ...context, userId: user.id, email: checked, reason: `jit:${idp.entityId}` }),
      );
    });
    return user;
  } catch (error) {
    // Two first logins at once: the other request created the user.
    if (!(error instanceof StoreConflictError)) throw error;
    return mapSamlUser(deps, { ...idp, jit: false }, email, context);
  }
}
