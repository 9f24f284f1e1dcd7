import { AdminError } from '../common/admin-error.ts';
import type { EventFilter, EventPageFilter, SecurityEvent, Store } from '../store/store.ts';

/** Reading the security event log (the CLI's `events`, later the admin API). */
export class EventService {
  private readonly store: Store;

  constructor(deps: { store: Store }) {
    this.store = deps.store;
  }

  /** Newest first (the admin API's listing). */
  page(filter: EventPageFilter): Promise<SecurityEvent[]> {
    return this.store.events.page(filter);
  }

  async find(id: string): Promise<SecurityEvent> {
    const event = await this.store.events.find(id);
    if (!event) throw new AdminError(`no event with id ${id}`, 'not_found');
    return event;
  }

  list(filter: EventFilter): Promise<SecurityEvent[]> {
    return this.store.events.list(filter);
  }

  /**
   * The last page of the log: the newest `limit` events matching the filter, oldest first
   * within the page — what an operator reading `sei-auth events --limit N` wants.
   */
  latest(filter: Omit<EventFilter, 'newest'>): Promise<SecurityEvent[]> {
    return this.store.events.list({ ...filter, newest: true });
  }
}
