/**
 * `#/fleet`: every fleet member's capacity (memory, vCPUs, load) and guests, the unreachable
 * ones with why, the forms that plan an evacuation (and its undo), a balance or a
 * consolidation, and the plan on view (plan-view.tsx).
 * @module
 */
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { capacityBars, type Bar } from '../fleet-figures.js';
import { formatKiB } from '../format.js';
import {
  current,
  isRunning,
  loadMembers,
  makePlan,
  members,
  membersError,
  planErrors,
  planning,
  type Member,
  type PlanKind,
} from '../state/fleet.js';
import { PlanView } from './plan-view.js';

function Meter({ name, host, bar, high }: { name: string; host: string; bar: Bar; high: number }) {
  return (
    <div class="meter-row">
      <span class="meter-name">{name}</span>
      <meter
        aria-label={`${name} on ${host}`}
        min={0}
        max={Math.max(bar.max, Number.MIN_VALUE)}
        value={Math.min(bar.value, bar.max)}
        low={bar.max * 0.6}
        high={bar.max * high}
        optimum={0}
      />
      <span class="meter-text">{bar.text}</span>
    </div>
  );
}

function CapacityCard({ member }: { member: Member }) {
  const c = member.capacity;
  const bars = capacityBars(c);
  return (
    <section aria-label={`Capacity ${c.hostname}`} class="card capacity">
      <div class="card-head">
        <div>
          <h2>{c.hostname}</h2>
          <p class="uri">{member.uri}</p>
        </div>
        <p class="muted cpu-model">{c.cpuModel}</p>
      </div>
      <Meter name="Memory" host={c.hostname} bar={bars.memory} high={0.9} />
      <Meter name="vCPUs" host={c.hostname} bar={bars.vcpus} high={1} />
      <Meter name="Load" host={c.hostname} bar={bars.load} high={1} />
      <ul class="chips" aria-label={`Guests on ${c.hostname}`}>
        {c.guests.map((g) => (
          <li key={g.uuid} class={`chip state-${g.state.replace(/ /g, '-')}`}>
            <strong>{g.name}</strong> {g.state} · {formatKiB(g.memoryKiB)} · {g.vcpus} vCPU
            {g.vcpus === 1 ? '' : 's'}
            {g.busy ? ' · busy' : ''}
          </li>
        ))}
        {c.guests.length === 0 && <li class="muted">No guests.</li>}
      </ul>
    </section>
  );
}

function PlanError({ kind }: { kind: PlanKind }) {
  const message = planErrors.value[kind];
  return message === undefined ? null : (
    <p role="alert" class="error">
      {message}
    </p>
  );
}

function PlanButton({ kind }: { kind: PlanKind }) {
  const busy = planning.value !== undefined || isRunning();
  return (
    <button type="submit" disabled={busy}>
      {planning.value === kind ? 'Planning…' : 'Plan'}
    </button>
  );
}

/** A whole number ≥ 1 from a form field, or undefined when left empty (the default applies). */
function countField(text: string): number | undefined | 'bad' {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : 'bad';
}

function EvacuateForm({ hosts }: { hosts: readonly string[] }) {
  const host = useSignal('');
  const targets = useSignal<readonly string[]>([]);
  const record = useSignal(false);
  const chosen = hosts.includes(host.value) ? host.value : (hosts[0] ?? '');
  const submit = (ev: Event): void => {
    ev.preventDefault();
    const to = targets.value.filter((t) => t !== chosen && hosts.includes(t));
    void makePlan(
      { kind: 'evacuate', host: chosen, ...(to.length > 0 ? { to } : {}) },
      record.value,
    );
  };
  const toggle = (t: string, on: boolean): void => {
    targets.value = on ? [...targets.value, t] : targets.value.filter((x) => x !== t);
  };
  return (
    <form aria-label="Evacuate" class="card plan-form" onSubmit={submit}>
      <h2>Evacuate</h2>
      <p class="muted">Move every guest off a host, e.g. before maintenance.</p>
      <HostSelect
        id="evacuate-host"
        label="Host to evacuate"
        hosts={hosts}
        value={chosen}
        onChange={(h) => (host.value = h)}
      />
      <fieldset class="field targets">
        <legend>Targets (none ticked: any other host)</legend>
        {hosts
          .filter((h) => h !== chosen)
          .map((h) => (
            <label key={h} class="choice">
              <input
                type="checkbox"
                checked={targets.value.includes(h)}
                onChange={(ev) => toggle(h, ev.currentTarget.checked)}
              />
              To {h}
            </label>
          ))}
      </fieldset>
      <label class="choice field">
        <input
          type="checkbox"
          checked={record.value}
          onChange={(ev) => (record.value = ev.currentTarget.checked)}
        />
        Bring them back later (--return)
      </label>
      <PlanButton kind="evacuate" />
      <PlanError kind="evacuate" />
    </form>
  );
}

/** A labelled choice of one fleet host (the host to evacuate, the host to bring back to). */
function HostSelect(props: {
  id: string;
  label: string;
  hosts: readonly string[];
  value: string;
  onChange: (host: string) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        onChange={(ev) => props.onChange(ev.currentTarget.value)}
      >
        {props.hosts.map((h) => (
          <option key={h} value={h}>
            {h}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The undo of an evacuation made with "Bring them back later": its guests come home. */
function BringBackForm({ hosts }: { hosts: readonly string[] }) {
  const host = useSignal('');
  const chosen = hosts.includes(host.value) ? host.value : (hosts[0] ?? '');
  const submit = (ev: Event): void => {
    ev.preventDefault();
    void makePlan({ kind: 'undo', host: chosen }, false);
  };
  return (
    <form aria-label="Bring back" class="card plan-form" onSubmit={submit}>
      <h2>Bring back</h2>
      <p class="muted">
        Return the guests of an evacuation made with “Bring them back later” (as{' '}
        <code>ferry evacuate --undo</code>).
      </p>
      <HostSelect
        id="undo-host"
        label="Evacuated host"
        hosts={hosts}
        value={chosen}
        onChange={(h) => (host.value = h)}
      />
      <PlanButton kind="undo" />
      <PlanError kind="undo" />
    </form>
  );
}

function CountForm({
  kind,
  title,
  help,
  field,
  placeholder,
}: {
  kind: 'balance' | 'consolidate';
  title: string;
  help: string;
  field: string;
  placeholder: string;
}) {
  const text = useSignal('');
  const local = useSignal<string | undefined>(undefined);
  const id = `${kind}-count`;
  const submit = (ev: Event): void => {
    ev.preventDefault();
    const n = countField(text.value);
    if (n === 'bad') {
      local.value = `${field} must be a whole number from 1 to 1000`;
      return;
    }
    local.value = undefined;
    const request =
      kind === 'balance'
        ? { kind, ...(n === undefined ? {} : { maxMoves: n }) }
        : { kind, ...(n === undefined ? {} : { keep: n }) };
    void makePlan(request, false);
  };
  return (
    <form aria-label={title} class="card plan-form" onSubmit={submit}>
      <h2>{title}</h2>
      <p class="muted">{help}</p>
      <div class="field">
        <label for={id}>{field}</label>
        <input
          id={id}
          type="number"
          min={1}
          max={1000}
          inputMode="numeric"
          placeholder={placeholder}
          value={text.value}
          onInput={(ev) => (text.value = ev.currentTarget.value)}
        />
      </div>
      <PlanButton kind={kind} />
      {local.value !== undefined && (
        <p role="alert" class="error">
          {local.value}
        </p>
      )}
      <PlanError kind={kind} />
    </form>
  );
}

/** Narrow screens draw the diagram two hosts wide so its names stay readable. */
function useColumns(): number {
  const narrow = useSignal(window.matchMedia('(max-width: 640px)').matches);
  useEffect(() => {
    const query = window.matchMedia('(max-width: 640px)');
    const onChange = (): void => {
      narrow.value = query.matches;
    };
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);
  return narrow.value ? 2 : 4;
}

export function FleetPage() {
  useEffect(() => {
    void loadMembers();
  }, []);
  const columns = useColumns();
  const data = members.value;
  const hostnames = data?.members.map((m) => m.capacity.hostname) ?? [];
  const view = current.value;
  return (
    <main>
      <div class="title">
        <h1>Fleet</h1>
        <button type="button" class="secondary small" onClick={() => void loadMembers()}>
          Refresh
        </button>
      </div>
      <p class="muted">
        The fleet is the console's hosts (add them on the <a href="#/">Hosts</a> page). Plans are
        drawn first and carried out only when you run them.
      </p>
      {membersError.value !== undefined && (
        <p role="alert" class="error">
          {membersError.value}
        </p>
      )}
      {data === undefined && membersError.value === undefined && <p class="muted">Loading…</p>}
      <div class="capacity-grid">
        {data?.members.map((m) => (
          <CapacityCard key={m.id} member={m} />
        ))}
      </div>
      {data !== undefined && data.unreachable.length > 0 && (
        <section aria-label="Unreachable hosts" class="card">
          <h2>Unreachable</h2>
          <ul>
            {data.unreachable.map((u) => (
              <li key={u.id}>
                <span class="mono">{u.uri}</span>: <span class="bad">{u.error}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {data !== undefined && (
        <div class="plan-forms">
          <EvacuateForm hosts={hostnames} />
          <CountForm
            kind="balance"
            title="Balance"
            help="Even out memory and CPU use across the hosts with few moves."
            field="Max moves"
            placeholder="10"
          />
          <CountForm
            kind="consolidate"
            title="Consolidate"
            help="Pack guests onto fewer hosts so the emptied ones can be powered off."
            field="Hosts to keep"
            placeholder="1"
          />
          <BringBackForm hosts={hostnames} />
        </div>
      )}
      {view !== undefined && <PlanView key={view.plan.id} view={view} columns={columns} />}
    </main>
  );
}
