import type { AccountService } from '../accounts/account-service.ts';
import type { ClientService } from '../clients/client-service.ts';
import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import type { EventService } from '../events/event-service.ts';
import type { IdpService } from '../idps/idp-service.ts';
import type { KeyService } from '../keys/key-service.ts';
import type { SessionService } from '../sessions/session-service.ts';
import { requireFullAdmin } from './admin-actor.ts';
import type { AdminAuthenticator } from './admin-authenticator.ts';
import { clientsCollection } from './clients-collection.ts';
import type { AdminCall, Collection } from './collection.ts';
import { eventsCollection } from './events-collection.ts';
import { idpsCollection } from './idps-collection.ts';
import { JsonInput } from './json-input.ts';
import { keysCollection } from './keys-collection.ts';
import { orgsCollection } from './orgs-collection.ts';
import { sessionsCollection } from './sessions-collection.ts';
import { usersCollection } from './users-collection.ts';
import { clientView } from './views.ts';

export const COLLECTIONS = ['orgs', 'users', 'clients', 'idps', 'sessions', 'events', 'keys'] as const;
export type CollectionName = (typeof COLLECTIONS)[number];

export interface AdminApiDeps {
  accounts: AccountService;
  clients: ClientService;
  idps: IdpService;
  sessions: SessionService;
  events: EventService;
  keys: KeyService;
  authenticator: AdminAuthenticator;
  clock: Clock;
}

/**
 * The admin API's domain (contract §9): who the caller is, the collections, and the actions
 * beside them. Every operation calls the services the CLI calls, so validation and events are
 * the same whichever face made the change; the HTTP routes only translate.
 */
export class AdminApi {
  readonly authenticator: AdminAuthenticator;
  readonly collections: Readonly<Record<CollectionName, Collection>>;
  private readonly users: ReturnType<typeof usersCollection>;
  private readonly deps: AdminApiDeps;

  constructor(deps: AdminApiDeps) {
    this.deps = deps;
    this.authenticator = deps.authenticator;
    this.users = usersCollection(deps.accounts);
    const inOrg = async (userId: string | null, orgId: string) =>
      userId !== null && (await deps.accounts.user(userId).catch(() => undefined))?.orgId === orgId;
    this.collections = {
      orgs: orgsCollection(deps.accounts),
      users: this.users,
      clients: clientsCollection(deps.clients, deps.clock),
      idps: idpsCollection(deps.idps),
      sessions: sessionsCollection(deps.sessions, deps.accounts, deps.clock),
      events: eventsCollection(deps.events, inOrg),
      keys: keysCollection(deps.keys),
    };
  }

  /** `POST /clients/{id}/secret`: the new secret is in this answer only. */
  async rotateSecret(call: AdminCall, clientId: string, body: unknown): Promise<object> {
    requireFullAdmin(call.actor);
    const input = new JsonInput(body ?? {}, ['grace_seconds']);
    const rotated = await this.deps.clients.rotateClientSecret(clientId, { graceSeconds: input.optInteger('grace_seconds') }, call.ctx);
    return { ...clientView(await this.deps.clients.clientById(clientId), this.deps.clock.now()), client_secret: rotated.client_secret };
  }

  /** `PUT /users/{id}/password`: ends the user's sessions unless `keep_sessions`. */
  async setPassword(call: AdminCall, userId: string, body: unknown): Promise<object> {
    const input = new JsonInput(body, ['password', 'keep_sessions']);
    await this.users.changeable(call, userId);
    const password = input.string('password');
    if (password === '') throw new AdminError('password must not be empty');
    const { endedSessions } = await this.deps.accounts.setPasswordById(
      userId,
      password,
      { keepSessions: input.optBoolean('keep_sessions') },
      call.ctx,
    );
    return { id: userId, ended_sessions: endedSessions };
  }

  /** `DELETE /users/{id}/sessions`: every session of the user ends; its tokens die at once. */
  async endSessions(call: AdminCall, userId: string): Promise<object> {
    await this.users.changeable(call, userId);
    const { endedSessions } = await this.deps.accounts.endSessions(userId, call.ctx);
    return { id: userId, ended_sessions: endedSessions };
  }
}
