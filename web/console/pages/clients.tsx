import { api } from '../api.ts';
import { CollectionPage } from '../components/collection-page.tsx';
import type { FieldDef } from '../components/form.tsx';

const SETTINGS: FieldDef[] = [
  { name: 'redirect_urls', label: 'Redirect URLs', type: 'lines', hint: 'One per line.' },
  { name: 'scopes', label: 'Scopes', type: 'words', hint: 'Space-separated, e.g. "reports.read admin".' },
  { name: 'refresh_tokens', label: 'Issue refresh tokens (code flow)', type: 'checkbox' },
  { name: 'access_ttl', label: 'Access token lifetime (s)', type: 'number', min: 1 },
  { name: 'refresh_ttl', label: 'Refresh token lifetime (s)', type: 'number', min: 1 },
  { name: 'token_type', label: 'Token type', type: 'select', options: ['BearerToken', 'Bearer'] },
  { name: 'access_token_format', label: 'Access token format', type: 'select', options: ['opaque', 'jwt'] },
];

/** Clients: create (apps, services, resource servers), edit, rotate the secret (shown once), disable, delete. */
export function ClientsPage() {
  return (
    <CollectionPage
      config={{
        collection: 'clients',
        title: 'Clients',
        singular: 'client',
        columns: [
          { key: 'name', label: 'Name' },
          { key: 'id', label: 'Client id' },
          { key: 'kind', label: 'Kind' },
          { key: 'scopes', label: 'Scopes' },
          { key: 'disabled', label: 'Disabled' },
        ],
        create: [
          { name: 'name', label: 'Name', required: true },
          ...SETTINGS,
          { name: 'service', label: 'Service client (tokens for itself)', type: 'checkbox' },
          { name: 'resource_server', label: 'Resource server (introspects its audience)', type: 'checkbox' },
          { name: 'audience', label: 'Audience URI (resource servers)', type: 'url' },
        ],
        edit: [
          { name: 'name', label: 'Name', required: true },
          ...SETTINGS,
          { name: 'disabled', label: 'Disabled (its sessions end)', type: 'checkbox' },
        ],
        actions: [
          {
            label: 'Rotate secret',
            secret: true,
            form: [
              {
                name: 'grace_seconds',
                label: 'Old secret keeps working for (s)',
                type: 'number',
                min: 0,
                hint: 'Time to deploy the new secret; 0 or empty ends the old one now.',
              },
            ],
            run: (c, values) =>
              api('POST', `clients/${c.id}/secret`, values.grace_seconds ? { grace_seconds: Number(values.grace_seconds) } : {}),
          },
        ],
        deleteMessage: (c) => `Delete client ${c.name}? Its sessions end and it can no longer get tokens. This cannot be undone.`,
      }}
    />
  );
}
