/**
 * The Migrate dialog, as the chapter's section 10.5: the destination (a known host or a typed
 * URI), Permanent or Temporary, an Advanced part with the CLI's tuning, and the preflight's
 * verdict before the user may confirm.
 * @module
 */
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { defaultForm, formToPlan, type MigrateForm, type MigratePlan } from '../flags.js';
import { connectionTo } from '../rpc/connections.js';
import { errorMessage } from '../rpc/session.js';
import type { FleetHost, PreflightReport } from '../rpc/types.js';
import { destinationChoices } from '../destinations.js';
import { hostName, hosts } from '../state/hosts.js';
import type { Destination } from '../state/migrations.js';

interface Props {
  hostId: string;
  name: string;
  guestRunning: boolean;
  onClose: () => void;
  onMigrate: (destination: Destination, plan: MigratePlan) => void;
}

type Preflight =
  | { state: 'idle'; text: string }
  | { state: 'checking' }
  | { state: 'done'; report: PreflightReport }
  | { state: 'error'; text: string };

const PREFLIGHT_DEBOUNCE_MS = 400;

/** The verdict line: "Preflight passed…", "Preflight failed: CHECK: reason", "Checking…". */
function verdictText(p: Preflight): string {
  switch (p.state) {
    case 'idle':
      return p.text;
    case 'checking':
      return 'Checking…';
    case 'error':
      return `Preflight failed: ${p.text}`;
    case 'done': {
      const failed = p.report.checks.find((c) => c.verdict === 'fail');
      if (failed !== undefined) return `Preflight failed: ${failed.check}: ${failed.reason}`;
      const warned = p.report.checks.filter((c) => c.verdict === 'warn').length;
      return warned === 0
        ? 'Preflight passed'
        : `Preflight passed with ${warned} warning${warned === 1 ? '' : 's'}`;
    }
  }
}

function destinationFor(uri: string, known: readonly FleetHost[]): Destination {
  const host = known.find((h) => h.uri === uri);
  return { uri, hostId: host?.id, label: host === undefined ? uri : hostName(host) };
}

export function MigrateDialog({ hostId, name, guestRunning, onClose, onMigrate }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const form = useSignal<MigrateForm>(defaultForm(guestRunning));
  const destHost = useSignal('');
  const uri = useSignal('');
  const preflight = useSignal<Preflight>({
    state: 'idle',
    text: 'Enter a destination URI to run the preflight.',
  });
  const others = destinationChoices(hosts.value ?? [], hostId);
  const set = <K extends keyof MigrateForm>(key: K, value: MigrateForm[K]): void => {
    form.value = { ...form.value, [key]: value };
  };

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  // The preflight runs once typing pauses, and again whenever the flags change.
  const outcome = formToPlan(form.value);
  const planKey = outcome.ok ? JSON.stringify(outcome.plan.flags) : '';
  const destUri = uri.value.trim();
  useEffect(() => {
    if (destUri === '') {
      preflight.value = { state: 'idle', text: 'Enter a destination URI to run the preflight.' };
      return;
    }
    if (!outcome.ok) {
      preflight.value = { state: 'idle', text: `Preflight not run: ${outcome.error}` };
      return;
    }
    preflight.value = { state: 'checking' };
    let current = true;
    const timer = setTimeout(() => {
      connectionTo(hostId)
        .call('migration.preflight', {
          domain: name,
          destUri,
          flags: outcome.plan.flags,
          measure: { bandwidth: false, dirtyRate: false },
        })
        .then(
          (report) => {
            if (current) preflight.value = { state: 'done', report };
          },
          (err: unknown) => {
            if (current) preflight.value = { state: 'error', text: errorMessage(err) };
          },
        );
    }, PREFLIGHT_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
    // planKey stands for the flags: a new object with the same flags is no change.
  }, [destUri, planKey, hostId, name]);

  const p = preflight.value;
  const passed = p.state === 'done' && p.report.verdict !== 'fail';
  const submit = (ev: Event): void => {
    ev.preventDefault();
    if (!passed || !outcome.ok) return;
    onMigrate(destinationFor(destUri, hosts.value ?? []), outcome.plan);
  };
  const f = form.value;
  const verdictClass =
    p.state === 'done' ? `verdict-${p.report.verdict}` : p.state === 'error' ? 'verdict-fail' : '';

  return (
    <dialog
      ref={dialog}
      aria-label={`Migrate ${name}`}
      class="migrate-dialog"
      onCancel={(ev) => {
        ev.preventDefault();
        onClose();
      }}
    >
      <form onSubmit={submit}>
        <h2>Migrate {name} to another host</h2>
        <div class="field">
          <label for="dest-host">Destination host</label>
          <select
            id="dest-host"
            value={destHost.value}
            onChange={(ev) => {
              const id = ev.currentTarget.value;
              destHost.value = id;
              const h = others.find((o) => o.id === id);
              if (h !== undefined) uri.value = h.uri;
            }}
          >
            <option value="">Choose a known host…</option>
            {others.map((h) => (
              <option key={h.id} value={h.id}>
                {hostName(h)} ({h.uri})
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="dest-uri">Destination URI</label>
          <input
            id="dest-uri"
            autocomplete="off"
            placeholder="qemu+tcp://host2/system"
            value={uri.value}
            onInput={(ev) => {
              uri.value = ev.currentTarget.value;
              const h = others.find((o) => o.uri === uri.value.trim());
              destHost.value = h?.id ?? '';
            }}
          />
        </div>
        <fieldset class="field">
          <legend>Migration type</legend>
          <label class="choice">
            <input
              type="radio"
              name="migration-type"
              value="permanent"
              checked={f.type === 'permanent'}
              aria-describedby="type-permanent-help"
              onChange={() => set('type', 'permanent')}
            />
            Permanent
          </label>
          <p id="type-permanent-help" class="help">
            Moves the VM for good: it is defined on the destination and its configuration is removed
            from this host.
          </p>
          <label class="choice">
            <input
              type="radio"
              name="migration-type"
              value="temporary"
              checked={f.type === 'temporary'}
              aria-describedby="type-temporary-help"
              onChange={() => set('type', 'temporary')}
            />
            Temporary
          </label>
          <p id="type-temporary-help" class="help">
            Migrates a copy of the VM to the destination, deleted there when the VM shuts down; the
            original VM remains on this host.
          </p>
        </fieldset>
        <details class="advanced">
          <summary>Advanced</summary>
          <div class="grid">
            <label class="choice">
              <input
                type="checkbox"
                checked={f.live}
                onChange={(ev) => set('live', ev.currentTarget.checked)}
              />
              Live migration
            </label>
            <label class="choice">
              <input
                type="checkbox"
                checked={f.autoConverge}
                onChange={(ev) => set('autoConverge', ev.currentTarget.checked)}
              />
              Auto-converge
            </label>
            <label class="choice">
              <input
                type="checkbox"
                checked={f.automaticPolicy}
                onChange={(ev) => set('automaticPolicy', ev.currentTarget.checked)}
              />
              Automatic policy
            </label>
            <div class="field">
              <label for="copy-storage">Copy storage</label>
              <select
                id="copy-storage"
                value={f.copyStorage}
                onChange={(ev) =>
                  set('copyStorage', ev.currentTarget.value as MigrateForm['copyStorage'])
                }
              >
                <option value="none">None</option>
                <option value="all">All disks</option>
                <option value="inc">Incremental</option>
              </select>
            </div>
            <NumberField
              id="parallel"
              label="Parallel connections"
              hint="empty: off"
              value={f.parallelConnections}
              onInput={(v) => set('parallelConnections', v)}
            />
            <NumberField
              id="max-downtime"
              label="Max downtime (ms)"
              hint="empty: as set"
              value={f.maxDowntimeMs}
              onInput={(v) => set('maxDowntimeMs', v)}
            />
            <NumberField
              id="postcopy-after"
              label="Post-copy after (s)"
              hint="empty: never"
              value={f.postcopyAfterSeconds}
              onInput={(v) => set('postcopyAfterSeconds', v)}
            />
            <NumberField
              id="bandwidth"
              label="Bandwidth limit (MiB/s)"
              hint="empty: unlimited"
              value={f.bandwidthMiBs}
              onInput={(v) => set('bandwidthMiBs', v)}
            />
          </div>
        </details>
        <section aria-label="Preflight" class="preflight">
          <h3>Preflight</h3>
          {p.state === 'done' && (
            <ul>
              {p.report.checks.map((c) => (
                <li key={c.check} class={`check check-${c.verdict}`}>
                  {c.check} — {c.verdict} — {c.reason}
                </li>
              ))}
            </ul>
          )}
          <p data-testid="preflight-verdict" class={`verdict ${verdictClass}`} aria-live="polite">
            {verdictText(p)}
          </p>
          {!outcome.ok && (
            <p role="alert" class="error">
              {outcome.error}
            </p>
          )}
        </section>
        <div class="dialog-buttons">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={!passed}>
            Migrate
          </button>
        </div>
      </form>
    </dialog>
  );
}

function NumberField(props: {
  id: string;
  label: string;
  hint: string;
  value: string;
  onInput: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="number"
        min={1}
        inputMode="numeric"
        placeholder={props.hint}
        value={props.value}
        onInput={(ev) => props.onInput(ev.currentTarget.value)}
      />
    </div>
  );
}
