/**
 * `#/`: every known host with its guests (name, state, vCPUs, memory), adding and removing
 * remote hosts by URI.
 * @module
 */
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { formatKiB } from '../format.js';
import { errorMessage } from '../rpc/session.js';
import type { FleetHost } from '../rpc/types.js';
import {
  addHost,
  guestsOf,
  hostName,
  hosts,
  hostsError,
  loadHosts,
  removeHost,
} from '../state/hosts.js';
import { guestHref } from './routes.js';

function GuestTable({ host }: { host: FleetHost }) {
  const name = hostName(host);
  const { guests, error } = guestsOf(host.id);
  const list = guests.value;
  return (
    <>
      {error.value !== undefined && (
        <p role="alert" class="error">
          {error.value}
        </p>
      )}
      <div class="table-scroll">
        <table aria-label={`Guests on ${name}`}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">vCPUs</th>
              <th scope="col">Memory</th>
            </tr>
          </thead>
          <tbody>
            {list?.map((g) => (
              <tr key={g.uuid}>
                <td>
                  <a href={guestHref(host.id, g.name)}>{g.name}</a>
                </td>
                <td>
                  <span class={`state state-${g.state.replace(/ /g, '-')}`}>{g.state}</span>
                </td>
                <td class="num">{g.vcpus}</td>
                <td class="num">{formatKiB(g.memoryKiB)}</td>
              </tr>
            ))}
            {list?.length === 0 && (
              <tr>
                <td colSpan={4} class="muted">
                  No guests defined or running.
                </td>
              </tr>
            )}
            {list === undefined && error.value === undefined && (
              <tr>
                <td colSpan={4} class="muted">
                  Loading…
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}

function HostSection({ host }: { host: FleetHost }) {
  const name = hostName(host);
  const removeError = useSignal<string | undefined>(undefined);
  const busy = useSignal(false);
  const remove = async (): Promise<void> => {
    busy.value = true;
    try {
      await removeHost(host.id);
    } catch (err) {
      removeError.value = errorMessage(err);
      busy.value = false;
    }
  };
  return (
    <section aria-label={`Host ${name}`} class="card">
      <div class="card-head">
        <div>
          <h2>{name}</h2>
          <p class="uri">{host.uri}</p>
        </div>
        <p class={host.reachable ? 'status ok' : 'status bad'}>
          {host.reachable ? 'reachable' : `unreachable: ${host.error ?? 'no answer'}`}
        </p>
      </div>
      {host.reachable && <GuestTable host={host} />}
      {host.id !== 'local' && (
        <div class="actions">
          <button
            type="button"
            class="secondary"
            disabled={busy.value}
            onClick={() => void remove()}
          >
            Remove host {name}
          </button>
        </div>
      )}
      {removeError.value !== undefined && (
        <p role="alert" class="error">
          {removeError.value}
        </p>
      )}
    </section>
  );
}

function AddHostForm() {
  const uri = useSignal('');
  const error = useSignal<string | undefined>(undefined);
  const busy = useSignal(false);
  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    busy.value = true;
    error.value = undefined;
    try {
      await addHost(uri.value.trim());
      uri.value = '';
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      busy.value = false;
    }
  };
  return (
    <form
      class="card add-host"
      aria-labelledby="add-host-heading"
      onSubmit={(ev) => void submit(ev)}
    >
      <h2 id="add-host-heading">Add host</h2>
      <p class="muted">
        A ferryd this host can reach as a peer, e.g. <code>qemu+tcp://host2/system</code>.
      </p>
      <div class="row">
        <label for="host-uri">Host URI</label>
        <input
          id="host-uri"
          name="uri"
          required
          placeholder="qemu+tcp://host2/system"
          value={uri.value}
          onInput={(ev) => (uri.value = ev.currentTarget.value)}
        />
        <button type="submit" disabled={busy.value}>
          Add host
        </button>
      </div>
      {busy.value && <p class="muted">Connecting…</p>}
      {error.value !== undefined && (
        <p role="alert" class="error">
          {error.value}
        </p>
      )}
    </form>
  );
}

export function HostsPage() {
  useEffect(() => {
    void loadHosts();
  }, []);
  const list = hosts.value;
  return (
    <main>
      <h1>Hosts</h1>
      {hostsError.value !== undefined && (
        <p role="alert" class="error">
          {hostsError.value}
        </p>
      )}
      {list === undefined && hostsError.value === undefined && <p class="muted">Loading…</p>}
      {list?.map((h) => (
        <HostSection key={h.id} host={h} />
      ))}
      <AddHostForm />
    </main>
  );
}
