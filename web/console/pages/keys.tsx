import { CollectionPage } from '../components/collection-page.tsx';

/**
 * Signing keys (full admins): newest first. Rotating publishes a new key at once and lets it sign
 * after a delay (by default the JWKS max-age, so verifiers that cache the JWKS know it first);
 * retiring removes a key from signing and, later, from the JWKS.
 */
export function KeysPage() {
  return (
    <CollectionPage
      config={{
        collection: 'keys',
        idKey: 'kid',
        title: 'Signing keys',
        singular: 'key',
        columns: [
          { key: 'kid', label: 'Key id' },
          { key: 'alg', label: 'Algorithm' },
          { key: 'status', label: 'Status' },
          { key: 'created_at', label: 'Created' },
          { key: 'activates_at', label: 'Signs from' },
        ],
        createLabel: 'Rotate keys',
        create: [
          { name: 'alg', label: 'Algorithm', type: 'select', options: ['ES256', 'RS256', 'EdDSA'], hint: 'Empty: the server default.' },
          {
            name: 'activate_in',
            label: 'Starts signing in (s)',
            type: 'number',
            min: 0,
            hint: 'Empty: after the JWKS cache lifetime, so verifiers know the key first. 0 only in an emergency.',
          },
        ],
        deleteLabel: 'Retire key',
        deleteMessage: (k) => `Retire key ${k.kid}? It stops signing; tokens it signed stop verifying once it leaves the JWKS.`,
      }}
    />
  );
}
