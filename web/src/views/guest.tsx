/**
 * `#/host/HOSTID/guest/NAME`: one guest's state, definition summary, disks and serial
 * console, its lifecycle actions, the Migrate dialog and the progress of its migration.
 * @module
 */
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { formatKiB } from '../format.js';
import { connectionTo } from '../rpc/connections.js';
import { errorMessage } from '../rpc/session.js';
import type { DomainInfo } from '../rpc/types.js';
import { guestData } from '../state/guest.js';
import { findHost, hostName, loadHosts } from '../state/hosts.js';
import { attachRunningJob, runFor, startMigration } from '../state/migrations.js';
import { MigrateDialog } from './migrate-dialog.js';
import { MigrationProgress } from './progress.js';

type Action =
  'domain.start' | 'domain.shutdown' | 'domain.destroy' | 'domain.suspend' | 'domain.resume';

const ACTIONS: readonly { label: string; method: Action; when(info: DomainInfo): boolean }[] = [
  {
    label: 'Start',
    method: 'domain.start',
    when: (i) => i.state === 'shut off' || i.state === 'crashed',
  },
  { label: 'Shut down', method: 'domain.shutdown', when: (i) => i.state === 'running' },
  {
    label: 'Force off',
    method: 'domain.destroy',
    when: (i) => i.state !== 'shut off' && i.state !== 'crashed',
  },
  { label: 'Pause', method: 'domain.suspend', when: (i) => i.state === 'running' },
  { label: 'Resume', method: 'domain.resume', when: (i) => i.state === 'paused' },
];

function yesNo(v: boolean): string {
  return v ? 'yes' : 'no';
}

export function GuestPage({ hostId, name }: { hostId: string; name: string }) {
  const data = guestData(hostId, name);
  const busy = useSignal(false);
  const actionError = useSignal<string | undefined>(undefined);
  const dialogOpen = useSignal(false);
  const host = findHost(hostId);
  const hostLabel = host === undefined ? hostId : hostName(host);
  const run = runFor(hostId, name);
  const running = run?.status.value === 'running';

  useEffect(() => {
    if (host === undefined) void loadHosts();
    data.refresh();
    data.refreshConsole();
    actionError.value = undefined;
    attachRunningJob(hostId, name).catch(() => undefined);
    // Only on opening the page for this guest.
  }, [hostId, name]);

  // The console's tail is the interesting part: keep the newest line in view.
  const consoleBox = useRef<HTMLPreElement>(null);
  const consoleText = data.consoleText.value;
  useEffect(() => {
    const el = consoleBox.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [consoleText]);

  const act = async (method: Action): Promise<void> => {
    busy.value = true;
    actionError.value = undefined;
    try {
      await connectionTo(hostId).call(method, { domain: name });
      data.refresh();
    } catch (err) {
      actionError.value = errorMessage(err);
    } finally {
      busy.value = false;
    }
  };

  const info = data.info.value;
  const xml = data.xml.value;
  const active = info !== undefined && info.state !== 'shut off' && info.state !== 'crashed';
  return (
    <main>
      <p class="back">
        <a href="#/">All hosts</a>
      </p>
      <div class="title">
        <h1>{name}</h1>
        <p class="muted">on {hostLabel}</p>
      </div>
      <p class="state-line">
        State{' '}
        <span
          data-testid="guest-state"
          class={`state state-${(info?.state ?? 'unknown').replace(/ /g, '-')}`}
        >
          {info?.state ?? (data.error.value === undefined ? 'loading…' : 'unknown')}
        </span>
        {info !== undefined && info.reason !== 'unknown' && (
          <span class="muted"> ({info.reason})</span>
        )}
      </p>
      {data.error.value !== undefined &&
        (run?.status.value === 'completed' ? (
          <p class="muted">
            {name} is no longer on {hostLabel}: it moved to{' '}
            {run.destination.value?.label ?? 'its destination'}.
          </p>
        ) : (
          <p role="alert" class="error">
            {data.error.value}
          </p>
        ))}
      <div class="actions" role="group" aria-label="Actions">
        {ACTIONS.map((a) => (
          <button
            key={a.method}
            type="button"
            class={a.method === 'domain.destroy' ? 'danger' : 'secondary'}
            disabled={busy.value || info === undefined || running || !a.when(info)}
            onClick={() => void act(a.method)}
          >
            {a.label}
          </button>
        ))}
        <button
          type="button"
          disabled={busy.value || info === undefined || running || (!active && !info.persistent)}
          onClick={() => (dialogOpen.value = true)}
        >
          Migrate
        </button>
      </div>
      {actionError.value !== undefined && (
        <p role="alert" class="error">
          {actionError.value}
        </p>
      )}
      {run !== undefined && <MigrationProgress run={run} />}
      <div class="columns">
        <section aria-labelledby="summary-heading" class="card">
          <h2 id="summary-heading">Summary</h2>
          <dl class="summary">
            <dt>UUID</dt>
            <dd class="mono">{info?.uuid ?? '—'}</dd>
            <dt>State</dt>
            <dd>{info?.state ?? '—'}</dd>
            <dt>vCPUs</dt>
            <dd>{info?.vcpus ?? '—'}</dd>
            <dt>Memory</dt>
            <dd>{info === undefined ? '—' : formatKiB(info.memoryKiB)}</dd>
            <dt>Persistent</dt>
            <dd>{info === undefined ? '—' : yesNo(info.persistent)}</dd>
            <dt>Autostart</dt>
            <dd>{info === undefined ? '—' : yesNo(info.autostart)}</dd>
            <dt>CPU</dt>
            <dd>{xml?.cpu ?? '—'}</dd>
            <dt>Machine</dt>
            <dd>{xml?.machine ?? '—'}</dd>
          </dl>
        </section>
        <section aria-labelledby="disks-heading" class="card">
          <h2 id="disks-heading">Disks</h2>
          <div class="table-scroll">
            <table aria-label="Disks">
              <thead>
                <tr>
                  <th scope="col">Target</th>
                  <th scope="col">Source</th>
                  <th scope="col">Format</th>
                  <th scope="col">Bus</th>
                </tr>
              </thead>
              <tbody>
                {xml?.disks.map((d) => (
                  <tr key={d.target}>
                    <td>{d.target}</td>
                    <td class="mono">{d.source}</td>
                    <td>{d.format}</td>
                    <td>{d.bus}</td>
                  </tr>
                ))}
                {xml?.disks.length === 0 && (
                  <tr>
                    <td colSpan={4} class="muted">
                      No disks.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        </section>
      </div>
      <section aria-labelledby="console-heading" class="card">
        <div class="card-head">
          <h2 id="console-heading">Serial console</h2>
          <button type="button" class="secondary" onClick={() => data.refreshConsole()}>
            Refresh console
          </button>
        </div>
        {data.consoleError.value !== undefined && (
          <p role="alert" class="error">
            {data.consoleError.value}
          </p>
        )}
        <pre ref={consoleBox} aria-label="Serial console" class="console" tabIndex={0}>
          {consoleText ?? ''}
        </pre>
      </section>
      {dialogOpen.value && info !== undefined && (
        <MigrateDialog
          hostId={hostId}
          name={name}
          guestRunning={active}
          onClose={() => (dialogOpen.value = false)}
          onMigrate={(destination, plan) => {
            dialogOpen.value = false;
            startMigration(hostId, name, destination, plan);
          }}
        />
      )}
    </main>
  );
}
