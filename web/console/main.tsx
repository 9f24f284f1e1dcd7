import './console.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Me, signOut, whoAmI } from './api.ts';
import { ClientsPage } from './pages/clients.tsx';
import { EventsPage } from './pages/events.tsx';
import { IdpsPage } from './pages/idps.tsx';
import { KeysPage } from './pages/keys.tsx';
import { OrgsPage } from './pages/orgs.tsx';
import { SessionsPage } from './pages/sessions.tsx';
import { UsersPage } from './pages/users.tsx';

/**
 * The admin console's shell: who is signed in, the navigation, and the page of the current path
 * (/admin/<page>, served by the server as the same HTML; the query string carries the filters).
 */
const PAGES = [
  { path: 'users', label: 'Users', orgAdmin: true },
  { path: 'idps', label: 'IdPs', orgAdmin: true },
  { path: 'sessions', label: 'Sessions', orgAdmin: true },
  { path: 'events', label: 'Events', orgAdmin: true },
  { path: 'orgs', label: 'Organizations', orgAdmin: false },
  { path: 'clients', label: 'Clients', orgAdmin: false },
  { path: 'keys', label: 'Keys', orgAdmin: false },
] as const;

function currentPage(): string {
  const page = location.pathname.replace(/^\/admin\/?/, '').split('/')[0] ?? '';
  return page || 'users';
}

function currentFilters(): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(location.search));
}

function App() {
  const [me, setMe] = useState<Me | undefined>();
  const [page, setPage] = useState(currentPage());
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    whoAmI().then((who) => (who ? setMe(who) : location.assign('/admin/login')));
    const onPop = () => setPage(currentPage());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  if (!me) return <p class="boot">Loading the admin console…</p>;
  const orgAdmin = me.role !== 'admin';
  const pages = PAGES.filter((p) => !orgAdmin || p.orgAdmin);
  const go = (path: string) => (event: Event) => {
    event.preventDefault();
    history.pushState(null, '', `/admin/${path}`);
    setPage(path);
    setMenuOpen(false);
  };
  const filters = currentFilters();
  return (
    <>
      <header class="top">
        <a class="brand" href="/admin/users" onClick={go('users')}>
          sei-auth <span>admin</span>
        </a>
        <button type="button" class="menu" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <nav id="nav" class={menuOpen ? 'open' : undefined} aria-label="Sections">
          {pages.map((p) => (
            <a key={p.path} href={`/admin/${p.path}`} aria-current={page === p.path ? 'page' : undefined} onClick={go(p.path)}>
              {p.label}
            </a>
          ))}
        </nav>
        <div class="who">
          <span title={me.user_id}>
            {me.email ?? me.user_id}
            {me.role && <em> · {me.role}</em>}
          </span>
          <button type="button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main key={page}>
        {!me.role && (
          <div class="alert" role="alert">
            Your account has no administrator role: the admin API will refuse your requests.
          </div>
        )}
        {page === 'users' && <UsersPage filters={filters} orgAdmin={orgAdmin} />}
        {page === 'idps' && <IdpsPage orgAdmin={orgAdmin} />}
        {page === 'sessions' && <SessionsPage filters={filters} />}
        {page === 'events' && <EventsPage filters={filters} />}
        {page === 'orgs' && <OrgsPage />}
        {page === 'clients' && <ClientsPage />}
        {page === 'keys' && <KeysPage />}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
