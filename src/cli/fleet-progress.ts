/**
 * The progress view of a running fleet plan (`ferry evacuate|balance|consolidate --execute`),
 * fed its `fleet.progress` notifications: on a terminal a cli-progress multi-bar (one bar per
 * move with its state, percent and ETA, and an overall line with the plan's ETA), redrawn in
 * place; otherwise one plain line each time a move changes state, for logs and scripts.
 * @module
 */
import cliProgress from 'cli-progress';
import type { Plan, PlanProgress } from '../rpc/schema/fleet-plan.js';
import { formatEta } from './progress.js';

type MoveEntry = PlanProgress['moves'][number];

export interface PlanView {
  update(progress: PlanProgress): void;
  /** Writes a whole line without tearing the bars. */
  message(text: string): void;
  /** The plan ended (its last progress when known); the bars stay as they were last drawn. */
  finish(progress?: PlanProgress): void;
}

/** `vm1 h1 → h2`. */
export function moveLabel(m: Pick<MoveEntry, 'guest' | 'from' | 'to'>): string {
  return `${m.guest} ${m.from} \u2192 ${m.to}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The plain line for a move that has just reached its state. */
export function moveLine(m: MoveEntry, count: number): string {
  const head = `[${m.order}/${count}] ${moveLabel(m)}:`;
  switch (m.state) {
    case 'pending':
      return `${head} pending\n`;
    case 'running':
      return `${head} started\n`;
    case 'completed': {
      const took = m.elapsedMs === undefined ? '' : ` in ${seconds(m.elapsedMs)}`;
      const down = m.downtimeMs === undefined ? '' : ` (downtime ${m.downtimeMs} ms)`;
      const note = m.error === undefined ? '' : `; warning: ${m.error}`;
      return `${head} completed${took}${down}${note}\n`;
    }
    case 'failed':
      return `${head} failed: ${m.error ?? 'unknown error'}\n`;
    case 'skipped':
      return `${head} skipped\n`;
  }
}

/** Lines as moves change state (no terminal): what a log or a script reads. */
export function linesView(write: (text: string) => void, plan: Plan): PlanView {
  const count = plan.moves.length;
  const shown = new Map<number, MoveEntry['state']>();
  const update = (progress: PlanProgress): void => {
    for (const m of progress.moves) {
      if (shown.get(m.order) === m.state || m.state === 'pending') continue;
      shown.set(m.order, m.state);
      write(moveLine(m, count));
    }
  };
  return {
    update,
    message: write,
    finish: (progress) => {
      if (progress !== undefined) update(progress);
    },
  };
}

/** The custom tokens of a move's bar. */
function movePayload(m: MoveEntry, width: number): Record<string, string> {
  return {
    label: moveLabel(m).padEnd(width),
    state: m.state.padEnd(9),
    etaText:
      m.state === 'running'
        ? `ETA ${formatEta(m.etaMs === undefined ? undefined : m.etaMs / 1000)}`
        : '',
  };
}

/** One redrawn bar per move and an overall one, on a terminal `stream` (stdout). */
export function barsView(stream: NodeJS.WriteStream, plan: Plan): PlanView {
  const multi = new cliProgress.MultiBar({
    stream,
    format: '{label} [{bar}] {percentage}% | {state} {etaText}',
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    barsize: 25,
    hideCursor: false,
    // runPlan handles Ctrl-C itself: the first stops the plan, it does not end the command.
    gracefulExit: false,
    clearOnComplete: false,
    linewrap: null,
  });
  const moves = [...plan.moves].sort((a, b) => a.order - b.order);
  const width = Math.max('Overall'.length, ...moves.map((m) => moveLabel(m).length));
  const bars = new Map(
    moves.map((m) => {
      const entry: MoveEntry = { ...m, state: 'pending', percent: 0 };
      return [m.order, multi.create(100, 0, movePayload(entry, width))] as const;
    }),
  );
  const overall = multi.create(100, 0, {
    label: 'Overall'.padEnd(width),
    state: '',
    etaText: '',
  });
  let stopped = false;
  const update = (progress: PlanProgress): void => {
    if (stopped) return;
    for (const m of progress.moves) bars.get(m.order)?.update(m.percent, movePayload(m, width));
    const eta = progress.overallEtaMs === undefined ? undefined : progress.overallEtaMs / 1000;
    overall.update(progress.overallPercent, {
      state: progress.finished ? 'finished ' : 'running  ',
      etaText: progress.finished ? '' : `ETA ${formatEta(eta)}`,
    });
  };
  return {
    update,
    message: (text) => {
      if (stopped) stream.write(text);
      else multi.log(text);
    },
    finish: (progress) => {
      if (progress !== undefined) update(progress);
      if (!stopped) multi.stop();
      stopped = true;
    },
  };
}
