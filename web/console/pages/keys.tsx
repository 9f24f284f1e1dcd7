import { CollectionPage } from '../components/collection-page.tsx';

/** Signing keys: listed newest first; a new key is published before it signs (the server decides when). */
export function KeysPage() {
  return (
    <CollectionPage
      config={{
        collection: 'keys',
        title: 'Signing keys',
        singular: 'key',
        readOnly: true,
        columns: [
          { key: 'kid', label: 'Key id' },
          { key: 'alg', label: 'Algorithm' },
          { key: 'state', label: 'State' },
          { key: 'created_at', label: 'Created' },
          { key: 'activates_at', label: 'Signs from' },
          { key: 'retired_at', label: 'Retired' },
        ],
        create: [],
        createLabel: 'Rotate (new key)',
      }}
    />
  );
}
