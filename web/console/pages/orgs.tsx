import { api } from '../api.ts';
import { CollectionPage, show } from '../components/collection-page.tsx';

/** Organizations (full admins only): name and session limit; deleting one with users needs the cascade. */
export function OrgsPage() {
  return (
    <CollectionPage
      config={{
        collection: 'orgs',
        title: 'Organizations',
        singular: 'organization',
        columns: [
          { key: 'name', label: 'Name' },
          { key: 'id', label: 'Id' },
          { key: 'max_sessions', label: 'Session limit', render: (o) => (o.max_sessions == null ? 'unlimited' : show(o.max_sessions)) },
          { key: 'created_at', label: 'Created' },
        ],
        create: [
          { name: 'name', label: 'Name', required: true },
          { name: 'max_sessions', label: 'Sessions per user', type: 'number', min: 1, hint: 'Empty: unlimited.' },
        ],
        edit: [
          { name: 'name', label: 'Name', required: true },
          { name: 'max_sessions', label: 'Sessions per user', type: 'number', min: 1, hint: 'Empty: unlimited.' },
        ],
        actions: [
          {
            label: 'Delete with its users',
            danger: true,
            removes: true,
            confirm: (o) => `Delete ${o.name} and erase every user in it? Their sessions end at once. This cannot be undone.`,
            run: (o) => api('DELETE', `orgs/${o.id}?cascade=true`),
          },
        ],
      }}
    />
  );
}
