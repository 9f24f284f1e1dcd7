import { CollectionPage } from '../components/collection-page.tsx';

/** The security event log, newest first, filtered by type, user, client and time. Read-only. */
export function EventsPage(props: { filters: Record<string, string> }) {
  return (
    <CollectionPage
      config={{
        collection: 'events',
        title: 'Event log',
        singular: 'event',
        initialFilters: props.filters,
        filters: [
          { name: 'type', label: 'Type' },
          { name: 'user', label: 'User id' },
          { name: 'client', label: 'Client id' },
          { name: 'since', label: 'Since', type: 'datetime' },
        ],
        readOnly: true,
        columns: [
          { key: 'at', label: 'Time' },
          { key: 'type', label: 'Type' },
          { key: 'actor', label: 'Actor' },
          { key: 'target', label: 'Target' },
          { key: 'user_id', label: 'User' },
          { key: 'client_id', label: 'Client' },
          { key: 'ip', label: 'IP' },
        ],
      }}
    />
  );
}
