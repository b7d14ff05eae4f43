/**
 * The plan drawn: a box per host (its memory use before → after the plan) and an arrow per
 * move labelled with the guest, dashed for offline moves, coloured by the move's state while
 * the plan runs. Positions come from plan-layout.ts.
 * @module
 */
import { arrowStates, type ArrowState } from '../fleet-figures.js';
import { formatMs } from '../format.js';
import { layoutPlan } from '../plan-layout.js';
import type { Plan, Progress } from '../state/fleet.js';

const STATES: readonly ArrowState[] = [
  'planned',
  'pending',
  'running',
  'completed',
  'failed',
  'skipped',
];

function usePercent(used: number, total: number): string {
  return total > 0 ? `${Math.round((used / total) * 100)} %` : '—';
}

export function PlanDiagram({
  plan,
  progress,
  columns,
}: {
  plan: Plan;
  progress: Progress | undefined;
  columns: number;
}) {
  const layout = layoutPlan(
    plan.hosts.map((h) => h.host),
    plan.moves,
    columns,
  );
  const states = arrowStates(
    plan.moves.map((m) => m.order),
    progress,
  );
  const loads = new Map(plan.hosts.map((h) => [h.host, h]));
  const moves = new Map(plan.moves.map((m) => [m.order, m]));
  return (
    <figure aria-label="Plan diagram" class="plan-diagram" data-arrows={layout.arrows.length}>
      <svg
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-label={`${plan.hosts.length} hosts, ${plan.moves.length} moves`}
        preserveAspectRatio="xMidYMin meet"
        style={{ maxWidth: `${layout.width}px` }}
      >
        <defs>
          {STATES.map((s) => (
            <marker
              key={s}
              id={`arrowhead-${s}`}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" class={`head head-${s}`} />
            </marker>
          ))}
        </defs>
        {layout.boxes.map((b) => {
          const load = loads.get(b.host);
          return (
            <g key={b.host} class="host-box">
              <rect x={b.x} y={b.y} width={b.width} height={b.height} rx="8" />
              <text x={b.x + b.width / 2} y={b.y + 26} class="host-name">
                {b.host}
              </text>
              {load !== undefined && (
                <text x={b.x + b.width / 2} y={b.y + 48} class="host-load">
                  mem {usePercent(load.usedBeforeKiB, load.memoryKiB)} →{' '}
                  {usePercent(load.usedAfterKiB, load.memoryKiB)}
                </text>
              )}
            </g>
          );
        })}
        {layout.arrows.map((a) => {
          const move = moves.get(a.order);
          const state = states.get(a.order) ?? 'planned';
          const offline = move?.mode === 'offline';
          return (
            <g
              key={a.order}
              class={`move-arrow arrow-${state}${offline ? ' offline' : ''}`}
              data-testid="plan-arrow"
              data-state={state}
              data-guest={a.guest}
            >
              <title>
                {`#${a.order} ${a.guest}: ${a.from} → ${a.to} (${move?.mode ?? 'live'}, ~${formatMs(move?.predictedMs)}) — ${state}`}
              </title>
              <path d={a.path} marker-end={`url(#arrowhead-${state})`} />
              <text
                x={a.label.x + (a.anchor === 'start' ? 6 : a.anchor === 'end' ? -6 : 0)}
                y={a.anchor === 'middle' ? a.label.y - 6 : a.label.y + 4}
                text-anchor={a.anchor}
                class="arrow-label"
              >
                {a.guest}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption class="muted">
        Arrows: solid live, dashed offline
        {progress !== undefined
          ? '; grey waiting, amber running, green done, red failed, pale skipped'
          : ''}
        .
      </figcaption>
    </figure>
  );
}
