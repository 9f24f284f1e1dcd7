import { api } from '../api.ts';
import { CollectionPage } from '../components/collection-page.tsx';
import type { FieldDef } from '../components/form.tsx';

/** What `client create` and `client update` share (the API's CHANGEABLE fields, the CLI's names). */
const SETTINGS: FieldDef[] = [
  { name: 'redirect_urls', label: 'Redirect URLs', type: 'lines', hint: 'One per line.' },
  { name: 'scope', label: 'Scopes', hint: 'Space-separated, e.g. "reports.read admin".' },
  { name: 'refresh_tokens', label: 'Issue refresh tokens (code flow)', type: 'checkbox' },
  { name: 'require_pkce', label: 'Require PKCE', type: 'checkbox' },
  { name: 'access_ttl', label: 'Access token lifetime (s)', type: 'number', min: 1, hint: 'Empty: the server default.' },
  { name: 'refresh_ttl', label: 'Refresh token lifetime (s)', type: 'number', min: 1, hint: 'Empty: the server default.' },
  { name: 'token_type', label: 'Token type', type: 'select', options: ['BearerToken', 'Bearer'] },
  { name: 'access_token_format', label: 'Access token format', type: 'select', options: ['opaque', 'jwt'] },
  {
    name: 'web_origins',
    label: 'Web origins (CORS)',
    type: 'lines',
    hint: 'One per line, e.g. https://app.example.com: a single-page app calling the token endpoint.',
  },
  { name: 'post_logout_redirect_urls', label: 'Post-logout redirect URLs', type: 'lines', hint: 'One per line (OpenID Connect logout).' },
];

/** Clients: create (apps, services, resource servers), edit, rotate the secret (shown once), disable, delete. */
export function ClientsPage() {
  return (
    <CollectionPage
      config={{
        collection: 'clients',
        idKey: 'client_id',
        title: 'Clients',
        singular: 'client',
        columns: [
          { key: 'name', label: 'Name' },
          { key: 'client_id', label: 'Client id' },
          { key: 'kind', label: 'Kind' },
          { key: 'scope', label: 'Scopes' },
          { key: 'disabled', label: 'Disabled' },
        ],
        create: [
          { name: 'name', label: 'Name', required: true },
          {
            name: 'kind',
            label: 'Kind',
            type: 'select',
            options: ['app', 'service', 'resource_server'],
            hint: 'app signs users in; service gets tokens for itself; resource_server introspects its audience.',
          },
          {
            name: 'public',
            label: 'Public client (no secret, PKCE)',
            type: 'checkbox',
            hint: 'A single-page or mobile app that cannot keep a secret.',
          },
          ...SETTINGS,
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
                hint: 'Time to deploy the new secret; empty ends the old one now.',
              },
            ],
            run: (c, values) =>
              api('POST', `clients/${c.client_id}/secret`, values.grace_seconds ? { grace_seconds: Number(values.grace_seconds) } : {}),
          },
        ],
        deleteMessage: (c) => `Delete client ${c.name}? Its sessions end and it can no longer get tokens. This cannot be undone.`,
      }}
    />
  );
}
