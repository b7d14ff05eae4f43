/**
 * A plan before, while and after it runs: its diagram, the table of moves with their reasons,
 * what cannot move, the parallelism and predicted total, its summary; "Run plan" / "Discard";
 * then per-move and overall progress with "Stop"; at the end the result.
 * @module
 */
import { useSignal } from '@preact/signals';
import { moveStatus, overallStatus, resultLine } from '../fleet-figures.js';
import { formatKiB, formatMs } from '../format.js';
import {
  discardPlan,
  runPlan,
  stopPlan,
  type Plan,
  type PlanView as PlanViewState,
  type Progress,
} from '../state/fleet.js';
import { PlanDiagram } from './plan-diagram.js';

function MovesTable({ plan }: { plan: Plan }) {
  return (
    <div class="table-scroll">
      <table aria-label="Planned moves" class="moves">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Guest</th>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Mode</th>
            <th scope="col">Predicted</th>
            <th scope="col">Downtime</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {plan.moves.map((m) => (
            <tr key={m.order}>
              <td class="num">{m.order}</td>
              <td>{m.guest}</td>
              <td>{m.from}</td>
              <td>{m.to}</td>
              <td>{m.mode}</td>
              <td class="num">{formatMs(m.predictedMs)}</td>
              <td class="num">{m.mode === 'offline' ? '—' : formatMs(m.predictedDowntimeMs)}</td>
              <td class="why">
                {m.reasons.map((r) => (
                  <span key={r} class="reason">
                    {r}
                  </span>
                ))}
              </td>
            </tr>
          ))}
          {plan.moves.length === 0 && (
            <tr>
              <td colSpan={8} class="muted">
                Nothing to move.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function PlanFacts({ plan }: { plan: Plan }) {
  return (
    <>
      {plan.unmovable.length > 0 && (
        <div class="unmovable">
          <h3>Cannot move</h3>
          <ul aria-label="Cannot move">
            {plan.unmovable.map((u) => (
              <li key={`${u.host}/${u.guest}`}>
                <strong>{u.guest}</strong> on {u.host}: {u.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      <ul class="plan-facts">
        <li>
          Parallel: {plan.parallel} ({plan.parallelReason})
        </li>
        <li>Predicted total: {formatMs(plan.predictedMs)}</li>
        {plan.hosts.map((h) => (
          <li key={h.host}>
            {h.host}: memory {formatKiB(h.usedBeforeKiB)} → {formatKiB(h.usedAfterKiB)} of{' '}
            {formatKiB(h.memoryKiB)}, vCPUs {h.vcpusBefore} → {h.vcpusAfter} on {h.cpus}
          </li>
        ))}
        {plan.summary.map((s) => (
          <li key={s}>{s}</li>
        ))}
      </ul>
    </>
  );
}

function RunControls({ view }: { view: PlanViewState }) {
  const keepGoing = useSignal(false);
  const none = view.plan.moves.length === 0;
  return (
    <div class="actions run-controls">
      <label class="choice">
        <input
          type="checkbox"
          checked={keepGoing.value}
          onChange={(ev) => (keepGoing.value = ev.currentTarget.checked)}
        />
        Keep going after a failure
      </label>
      <button type="button" disabled={none} onClick={() => void runPlan(keepGoing.value)}>
        Run plan
      </button>
      <button type="button" class="secondary" onClick={discardPlan}>
        Discard
      </button>
      {view.record && (
        <p class="muted">
          Where each guest came from is recorded: “Bring back” plans their return.
        </p>
      )}
    </div>
  );
}

function RunProgress({ view, progress }: { view: PlanViewState; progress: Progress | undefined }) {
  const running = view.status.value === 'running';
  const moves = progress?.moves ?? [];
  return (
    <section aria-label="Plan run" class="card progress-card">
      <h3>{running ? 'Running' : 'Ran'}</h3>
      <div class="bar">
        <progress aria-label="Plan progress" max={100} value={progress?.overallPercent ?? 0} />
        <span class="eta">{progress === undefined ? 'Starting…' : overallStatus(progress)}</span>
      </div>
      <ul class="move-bars">
        {moves.map((m) => (
          <li key={m.order} class={`move-bar move-${m.state}`}>
            <span class="move-name">
              #{m.order} {m.guest}{' '}
              <span class="muted">
                {m.from} → {m.to}
              </span>
            </span>
            <progress aria-label={`Move ${m.guest}`} max={100} value={m.percent} />
            <span class="move-state">{moveStatus(m)}</span>
          </li>
        ))}
      </ul>
      {running && (
        <div class="actions">
          <button
            type="button"
            class="danger"
            disabled={view.stopping.value}
            onClick={() => void stopPlan()}
          >
            Stop
          </button>
          {view.stopping.value && (
            <p class="muted">Stopping: no new moves; moves under way finish or roll back.</p>
          )}
        </div>
      )}
    </section>
  );
}

function RunResult({ progress }: { progress: Progress }) {
  const failed = progress.moves.filter((m) => m.state === 'failed');
  return (
    <section
      aria-label="Plan result"
      class={`card result ${failed.length > 0 ? 'result-failed' : ''}`}
    >
      <h3>Result</h3>
      <p class={`big ${failed.length > 0 ? 'bad' : 'ok'}`} data-testid="plan-result">
        {resultLine(progress)}
      </p>
      {progress.stoppedBecause !== undefined && (
        <p role="alert" class="error">
          Stopped: {progress.stoppedBecause}
        </p>
      )}
      {failed.map((m) => (
        <p key={m.order} class="bad">
          {m.guest}: {m.error ?? 'failed'}
        </p>
      ))}
      <button type="button" class="secondary" onClick={discardPlan}>
        Close
      </button>
    </section>
  );
}

export function PlanView({ view, columns }: { view: PlanViewState; columns: number }) {
  const { plan } = view;
  const status = view.status.value;
  const progress = view.progress.value;
  return (
    <section aria-label="Plan" class="card plan-card">
      <div class="card-head">
        <h2>Plan: {plan.title}</h2>
        <p class="muted">
          {plan.moves.length} move{plan.moves.length === 1 ? '' : 's'}, {plan.parallel} at once,
          about {formatMs(plan.predictedMs)}
        </p>
      </div>
      <PlanDiagram
        plan={plan}
        progress={status === 'planned' ? undefined : progress}
        columns={columns}
      />
      <MovesTable plan={plan} />
      <PlanFacts plan={plan} />
      {view.error.value !== undefined && (
        <p role="alert" class="error">
          {view.error.value}
        </p>
      )}
      {status === 'planned' && <RunControls view={view} />}
      {status !== 'planned' && <RunProgress view={view} progress={progress} />}
      {status === 'finished' && progress !== undefined && <RunResult progress={progress} />}
    </section>
  );
}
