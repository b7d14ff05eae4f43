/**
 * The web console: a header (who is signed in, Sign out), the "connection lost" banner, and
 * the page the location hash names.
 * @module
 */
import { render } from 'preact';
import { signal } from '@preact/signals';
import './styles.css';
import { csrfToken, signedInUser } from './rpc/connection.js';
import { allConnections, hostLabel } from './rpc/connections.js';
import { FleetPage } from './views/fleet.js';
import { GuestPage } from './views/guest.js';
import { HostsPage } from './views/hosts.js';
import { parseRoute } from './views/routes.js';

const route = signal(parseRoute(location.hash));
window.addEventListener('hashchange', () => {
  route.value = parseRoute(location.hash);
  window.scrollTo(0, 0);
});

function Header() {
  return (
    <header class="topbar">
      <a href="#/" class="brand-link">
        <h2 class="brand">Ferry</h2>
      </a>
      <nav aria-label="Pages" class="nav">
        <a href="#/" aria-current={route.value.page === 'hosts' ? 'page' : undefined}>
          Hosts
        </a>
        <a href="#/fleet" aria-current={route.value.page === 'fleet' ? 'page' : undefined}>
          Fleet
        </a>
      </nav>
      <div class="who">
        <span>Signed in as {signedInUser() || 'unknown'}</span>
        <form method="post" action="/logout">
          <input type="hidden" name="csrf" value={csrfToken()} />
          <button type="submit" class="secondary small">
            Sign out
          </button>
        </form>
      </div>
    </header>
  );
}

function LostBanner() {
  const lost = allConnections.value.filter((c) => c.state.value === 'lost');
  if (lost.length === 0) return null;
  return (
    <div class="banner" role="status">
      {lost.map((c) => (
        <p key={c.hostId}>Connection to {hostLabel(c.hostId)} lost; reconnecting…</p>
      ))}
    </div>
  );
}

function App() {
  const r = route.value;
  return (
    <>
      <Header />
      <LostBanner />
      {r.page === 'guest' ? (
        <GuestPage key={`${r.hostId}/${r.name}`} hostId={r.hostId} name={r.name} />
      ) : r.page === 'fleet' ? (
        <FleetPage />
      ) : (
        <HostsPage />
      )}
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
