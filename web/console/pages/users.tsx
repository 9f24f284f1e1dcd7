import { api } from '../api.ts';
import { CollectionPage } from '../components/collection-page.tsx';

export const ROLES = ['admin', 'org-admin'] as const;

/** Users: create, edit role / limit / disabled, set a password, end their sessions, erase. */
export function UsersPage(props: { filters: Record<string, string>; orgAdmin: boolean }) {
  return (
    <CollectionPage
      config={{
        collection: 'users',
        title: 'Users',
        singular: 'user',
        initialFilters: props.filters,
        filters: [{ name: 'email', label: 'Email', type: 'email' }, ...(props.orgAdmin ? [] : [{ name: 'org', label: 'Organization id' }])],
        columns: [
          { key: 'email', label: 'Email' },
          { key: 'org', label: 'Organization' },
          { key: 'role', label: 'Role' },
          { key: 'disabled', label: 'Disabled' },
          { key: 'created_at', label: 'Created' },
        ],
        create: [
          { name: 'email', label: 'Email', type: 'email', required: true },
          { name: 'password', label: 'Password', type: 'password', hint: 'Leave empty for a user who signs in through their IdP only.' },
          ...(props.orgAdmin ? [] : [{ name: 'org', label: 'Organization id', hint: 'Empty: the default organization.' }]),
          { name: 'role', label: 'Role', type: 'select', options: props.orgAdmin ? ['org-admin'] : ROLES },
          { name: 'max_sessions', label: 'Sessions at once', type: 'number', min: 1, hint: "Empty: the organization's limit." },
        ],
        edit: [
          { name: 'role', label: 'Role', type: 'select', options: props.orgAdmin ? ['org-admin'] : ROLES },
          { name: 'max_sessions', label: 'Sessions at once', type: 'number', min: 1, hint: "Empty: the organization's limit." },
          { name: 'disabled', label: 'Disabled (signing in is refused, sessions end)', type: 'checkbox' },
        ],
        actions: [
          {
            label: 'Set password',
            form: [{ name: 'password', label: 'New password', type: 'password', required: true }],
            run: (u, values) => api('PUT', `users/${u.id}/password`, { password: values.password }),
          },
          {
            label: 'End all sessions',
            danger: true,
            confirm: (u) => `End every session of ${u.email}? Their tokens stop working at once.`,
            run: (u) => api('DELETE', `users/${u.id}/sessions`),
          },
        ],
        deleteMessage: (u) => `Erase ${u.email}? Their sessions end, their tokens die and the account is removed. This cannot be undone.`,
      }}
    />
  );
}
