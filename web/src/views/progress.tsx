/**
 * A migration as it happens: phase, progress bar with percent and ETA, rates, the chart of
 * what remains, and the job's controls; at the end its outcome with a link to the guest on
 * the destination host.
 * @module
 */
import { useSignal } from '@preact/signals';
import { RemainingChart } from '../chart/remaining-chart.js';
import { formatBytes, formatMs, formatRate, formatSeconds } from '../format.js';
import { dismissRun, runAction, type MigrationRun } from '../state/migrations.js';
import { guestHref } from './routes.js';

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div class="stat">
      <dt>{label}</dt> <dd>{value}</dd>
    </div>
  );
}

function Controls({ run }: { run: MigrationRun }) {
  const downtime = useSignal('');
  const busy = useSignal(false);
  const act = async (action: Parameters<typeof runAction>[1]): Promise<void> => {
    busy.value = true;
    await runAction(run, action);
    busy.value = false;
  };
  const setDowntime = (ev: Event): void => {
    ev.preventDefault();
    const n = Number(downtime.value);
    if (!Number.isInteger(n) || n < 1 || n > 2_000_000) {
      run.actionError.value = 'Max downtime (ms) must be a whole number from 1 to 2000000';
      return;
    }
    void act({ downtimeMs: n });
  };
  const postcopy = run.snapshot.value?.phase.startsWith('Post-copy') === true;
  return (
    <div class="job-controls">
      <form class="row" onSubmit={setDowntime}>
        <label for="job-downtime">Max downtime (ms)</label>
        <input
          id="job-downtime"
          type="number"
          min={1}
          max={2000000}
          inputMode="numeric"
          value={downtime.value}
          onInput={(ev) => (downtime.value = ev.currentTarget.value)}
        />
        <button type="submit" class="secondary" disabled={busy.value}>
          Set max downtime
        </button>
      </form>
      <div class="row">
        <button
          type="button"
          class="secondary"
          disabled={busy.value || postcopy || run.postcopyAllowed === false}
          aria-describedby={run.postcopyAllowed === false ? 'postcopy-off' : undefined}
          onClick={() => void act('postcopy')}
        >
          Switch to post-copy
        </button>
        <button
          type="button"
          class="danger"
          disabled={busy.value || postcopy}
          title={postcopy ? 'A job in post-copy cannot be cancelled' : undefined}
          onClick={() => void act('cancel')}
        >
          Cancel migration
        </button>
      </div>
      {run.postcopyAllowed === false && (
        <p id="postcopy-off" class="muted">
          Post-copy was not enabled when this migration started (set “Post-copy after (s)” in the
          Migrate dialog to allow it).
        </p>
      )}
    </div>
  );
}

function Result({ run }: { run: MigrationRun }) {
  const status = run.status.value;
  const dest = run.destination.value;
  const final = run.final.value;
  return (
    <section aria-label="Migration result" class={`card result result-${status}`}>
      <h2>Result</h2>
      {status === 'completed' ? (
        <>
          <p class="big ok">Migration completed</p>
          {final !== undefined && (
            <dl class="stats">
              <Stat label="Downtime" value={formatMs(final.totalDowntimeMs)} />
              <Stat label="Total time" value={formatMs(final.timeElapsedMs)} />
              <Stat label="Data transferred" value={formatBytes(final.dataProcessed ?? 0)} />
            </dl>
          )}
          {run.warnings.value.map((w) => (
            <p key={w} class="warning">
              warning: {w}
            </p>
          ))}
          {dest?.hostId !== undefined ? (
            <p>
              <a class="button-link" href={guestHref(dest.hostId, run.name)}>
                Open {run.name} on {dest.label}
              </a>
            </p>
          ) : (
            dest !== undefined && (
              <p class="muted">
                {run.name} now runs on {dest.uri}; add that host on the Hosts page to see it here.
              </p>
            )
          )}
        </>
      ) : (
        <p role="alert" class="error">
          {run.error.value}
        </p>
      )}
      <button type="button" class="secondary" onClick={() => dismissRun(run.hostId, run.name)}>
        Dismiss
      </button>
    </section>
  );
}

export function MigrationProgress({ run }: { run: MigrationRun }) {
  const s = run.snapshot.value;
  const status = run.status.value;
  const dest = run.destination.value;
  const percent = s?.percent ?? 0;
  return (
    <>
      <section aria-label="Migration progress" class="card progress-card">
        <div class="card-head">
          <h2>Migration{dest === undefined ? '' : ` to ${dest.label}`}</h2>
          <p class="phase">
            <span class="muted">Phase </span>
            <strong data-testid="migration-phase">
              {s?.phase ?? (status === 'running' ? 'Starting' : status)}
            </strong>
          </p>
        </div>
        <div class="bar">
          <progress aria-label="Progress" max={100} value={percent} />
          <span class="percent">{percent} %</span>
          <span class="eta">ETA {formatSeconds(status === 'running' ? s?.etaSeconds : 0)}</span>
        </div>
        <dl class="stats">
          <Stat label="Throughput" value={formatRate(s?.throughput ?? 0)} />
          <Stat
            label="Dirty rate"
            value={
              // QEMU first measures it at the end of the first pass; 0 before that means "not yet".
              (s?.iteration ?? 0) <= 1 && !s?.dirtyRate
                ? 'after pass 1'
                : formatRate(s?.dirtyRate ?? 0)
            }
          />
          <Stat label="Iteration" value={s?.iteration === undefined ? '—' : String(s.iteration)} />
          <Stat label="Expected downtime" value={formatMs(s?.expectedDowntimeMs)} />
          <Stat label="Memory remaining" value={formatBytes(s?.memoryRemaining ?? 0)} />
          {s?.diskRemaining !== undefined && (
            <Stat label="Disk remaining" value={formatBytes(s.diskRemaining)} />
          )}
          <Stat label="Elapsed" value={formatSeconds(s?.elapsedSeconds ?? 0)} />
        </dl>
        <RemainingChart points={run.points} count={run.pointCount.value} />
        {status === 'running' && <Controls run={run} />}
        {run.actionError.value !== undefined && (
          <p role="alert" class="error">
            {run.actionError.value}
          </p>
        )}
      </section>
      {status !== 'running' && <Result run={run} />}
    </>
  );
}
