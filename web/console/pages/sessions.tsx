import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { CollectionPage } from '../components/collection-page.tsx';
import { ConfirmDialog } from '../components/confirm.tsx';

/** Active sessions, by user: end one, or end all of a user's. */
export function SessionsPage(props: { filters: Record<string, string> }) {
  const [endAll, setEndAll] = useState(false);
  const [done, setDone] = useState<string | undefined>();
  const [version, setVersion] = useState(0);
  const user = props.filters.user;
  return (
    <>
      {user && (
        <div class="bar">
          <button type="button" class="danger" onClick={() => setEndAll(true)}>
            End all sessions of {user}
          </button>
          {done && (
            <span class="notice" role="status">
              {done}
            </span>
          )}
        </div>
      )}
      <CollectionPage
        key={version}
        config={{
          collection: 'sessions',
          title: 'Sessions',
          singular: 'session',
          initialFilters: props.filters,
          filters: [{ name: 'user', label: 'User id' }],
          columns: [
            { key: 'id', label: 'Session' },
            { key: 'user_id', label: 'User' },
            { key: 'client_id', label: 'Client' },
            { key: 'grant_type', label: 'Grant' },
            { key: 'active', label: 'Active' },
            { key: 'started_at', label: 'Started' },
            { key: 'expires_at', label: 'Expires' },
          ],
          deleteLabel: 'End session',
          deleteMessage: (s) => `End session ${s.id}? Its tokens stop working at once.`,
        }}
      />
      {endAll && user && (
        <ConfirmDialog
          title="End all sessions?"
          message={`End every session of ${user}? Their tokens stop working at once.`}
          confirmLabel="End all sessions"
          onCancel={() => setEndAll(false)}
          onConfirm={async () => {
            setEndAll(false);
            const result = await api('DELETE', `users/${user}/sessions`);
            setDone(result.ok ? 'All sessions ended.' : (result.problem.detail ?? 'Failed.'));
            setVersion((v) => v + 1);
          }}
        />
      )}
    </>
  );
}
