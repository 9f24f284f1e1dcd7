import { CollectionPage } from '../components/collection-page.tsx';

/** The server's security event types (src/events/security-event.ts), for the type filter. */
const EVENT_TYPES = [
  'login_succeeded',
  'login_failed',
  'session_started',
  'session_ended',
  'refresh_token_reused',
  'code_reused',
  'saml_rejected',
  'client_secret_rotated',
  'client_disabled',
  'client_enabled',
  'password_changed',
  'account_locked',
  'account_unlocked',
  'user_provisioned',
  'service_token_issued',
  'org_created',
  'org_updated',
  'org_deleted',
  'user_created',
  'user_updated',
  'user_deleted',
  'client_created',
  'client_updated',
  'client_deleted',
  'idp_created',
  'idp_updated',
  'idp_deleted',
  'key_rotated',
  'key_retired',
] as const;

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
          { name: 'type', label: 'Type', options: EVENT_TYPES },
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
