/**
 * Running and finished migrations, keyed by source host + guest, so the progress view
 * survives navigating away and back. Progress comes from the `job.progress` notifications of
 * the migration.start call; a job found running on (re)load (started by another page or
 * before a reconnect, whose notifications go elsewhere) is followed through job.info.
 * @module
 */
import { signal, type Signal } from '@preact/signals';
import type { MigratePlan } from '../flags.js';
import { ProgressTracker, type ChartPoint, type ProgressSnapshot } from '../phase.js';
import { connectionTo } from '../rpc/connections.js';
import { errorMessage, RpcError } from '../rpc/session.js';
import type { JobStats } from '../rpc/types.js';

/** Where the guest goes: the host id when it is one the console knows. */
export interface Destination {
  uri: string;
  hostId: string | undefined;
  label: string;
}

export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed';

export interface MigrationRun {
  hostId: string;
  name: string;
  destination: Signal<Destination | undefined>;
  status: Signal<RunStatus>;
  snapshot: Signal<ProgressSnapshot | undefined>;
  /** Chart samples, appended in place; {@link pointCount} tells views there are more. */
  points: ChartPoint[];
  pointCount: Signal<number>;
  /** The completed job's statistics (downtime, total time, bytes). */
  final: Signal<JobStats | undefined>;
  warnings: Signal<readonly string[]>;
  /** The failure's message, as ferryd said it. */
  error: Signal<string | undefined>;
  /** An action on the running job failed (set max downtime, post-copy, cancel). */
  actionError: Signal<string | undefined>;
  cancelRequested: boolean;
  /**
   * Whether the job may switch to post-copy: QEMU needs the capability from the start, so
   * only a job started with post-copy allowed can (undefined: a job this page did not start).
   */
  postcopyAllowed: boolean | undefined;
}

export const runs = signal<ReadonlyMap<string, MigrationRun>>(new Map());

function keyOf(hostId: string, name: string): string {
  return `${hostId}\u0000${name}`;
}

export function runFor(hostId: string, name: string): MigrationRun | undefined {
  return runs.value.get(keyOf(hostId, name));
}

function newRun(hostId: string, name: string, destination: Destination | undefined): MigrationRun {
  const run: MigrationRun = {
    hostId,
    name,
    destination: signal(destination),
    status: signal('running'),
    snapshot: signal(undefined),
    points: [],
    pointCount: signal(0),
    final: signal(undefined),
    warnings: signal([]),
    error: signal(undefined),
    actionError: signal(undefined),
    cancelRequested: false,
    postcopyAllowed: undefined,
  };
  const next = new Map(runs.value);
  next.set(keyOf(hostId, name), run);
  runs.value = next;
  return run;
}

/** Folds one sample into a run's view and chart. */
function sampler(run: MigrationRun): (stats: JobStats) => void {
  const tracker = new ProgressTracker();
  return (stats) => {
    const { snapshot, point } = tracker.update(stats);
    run.snapshot.value = snapshot;
    // A sample without time (the final stats may lack one) adds nothing to the chart.
    const last = run.points.at(-1);
    if (stats.timeElapsedMs !== undefined && (last === undefined || point.seconds > last.seconds)) {
      run.points.push(point);
      run.pointCount.value = run.points.length;
    }
  };
}

/** The job ended: its outcome from job.info --completed when the call could not say. */
async function settle(
  run: MigrationRun,
  sample: (s: JobStats) => void,
  err?: unknown,
): Promise<void> {
  const conn = connectionTo(run.hostId);
  let last: JobStats | undefined;
  try {
    last = await conn.call('job.info', { domain: run.name, completed: true });
  } catch {
    // The guest left with a Permanent migration, or the host went away: nothing more to read.
  }
  if (err === undefined) {
    if (last?.type === 'Completed') {
      run.final.value = last;
      sample(last);
    }
    run.status.value = 'completed';
    return;
  }
  const message = errorMessage(err);
  const cancelled =
    run.cancelRequested || last?.type === 'Cancelled' || /cancel+ed by client/.test(message);
  if (last !== undefined && last.type !== 'None') sample(last);
  run.error.value = cancelled ? `Migration cancelled: ${message}` : `Migration failed: ${message}`;
  run.status.value = cancelled ? 'cancelled' : 'failed';
}

/**
 * Starts migrating `name` from `hostId`: max downtime first (migrate-setmaxdowntime sets the
 * domain's tuning, which the job applies when it starts, as `ferry migrate-setmaxdowntime`
 * before `ferry migrate`), then one migration.start call lasting the whole job.
 */
export function startMigration(
  hostId: string,
  name: string,
  destination: Destination,
  plan: MigratePlan,
): MigrationRun {
  const run = newRun(hostId, name, destination);
  run.postcopyAllowed = plan.flags.postcopy === true || plan.flags.auto === true;
  const conn = connectionTo(hostId);
  const sample = sampler(run);
  const off = conn.on('job.progress', (p) => {
    if (p.name === name) sample(p);
  });
  void (async () => {
    try {
      if (plan.maxDowntimeMs !== undefined)
        await conn.call('migration.setMaxDowntime', {
          domain: name,
          downtimeMs: plan.maxDowntimeMs,
        });
      const result = await conn.call('migration.start', {
        domain: name,
        destUri: destination.uri,
        flags: plan.flags,
      });
      off();
      run.warnings.value = result.warnings ?? [];
      run.final.value = result.stats;
      sample(result.stats);
      run.status.value = 'completed';
    } catch (err) {
      off();
      // Not ferryd's answer but a lost link: the job goes on there; follow it from job.info.
      if (!(err instanceof RpcError)) follow(run, sample);
      else await settle(run, sample, err);
    }
  })();
  return run;
}

/** Follows a job this page did not start (or lost the link to) through job.info, once a second. */
function follow(run: MigrationRun, sample: (s: JobStats) => void): void {
  const conn = connectionTo(run.hostId);
  const tick = async (): Promise<void> => {
    let stats: JobStats;
    try {
      stats = await conn.call('job.info', { domain: run.name });
    } catch (err) {
      if (err instanceof RpcError) {
        // The guest is gone from the source: a Permanent migration completed.
        if (err.code === 'NO_DOMAIN') run.status.value = 'completed';
        else await settle(run, sample, err);
        return;
      }
      setTimeout(() => void tick(), 2000); // reconnecting
      return;
    }
    if (stats.type === 'Unbounded') {
      sample(stats);
      setTimeout(() => void tick(), 1000);
      return;
    }
    const done = await conn
      .call('job.info', { domain: run.name, completed: true })
      .catch(() => stats);
    sample(done);
    if (done.type === 'Completed') {
      run.final.value = done;
      run.status.value = 'completed';
    } else await settle(run, sample, new Error(done.error ?? `job ${done.type.toLowerCase()}`));
  };
  void tick();
}

/** On opening a guest page: a job already running there (and not shown yet) is followed. */
export async function attachRunningJob(hostId: string, name: string): Promise<void> {
  if (runFor(hostId, name)?.status.value === 'running') return;
  const stats = await connectionTo(hostId).call('job.info', { domain: name });
  if (stats.type !== 'Unbounded' || stats.operation === 'Incoming migration') return;
  if (runFor(hostId, name)?.status.value === 'running') return;
  const run = newRun(hostId, name, undefined);
  follow(run, sampler(run));
}

/** Forgets a finished run (the user closed its result). */
export function dismissRun(hostId: string, name: string): void {
  const next = new Map(runs.value);
  next.delete(keyOf(hostId, name));
  runs.value = next;
}

/** The running job's controls; failures land in run.actionError. */
export async function runAction(
  run: MigrationRun,
  action: 'postcopy' | 'cancel' | { downtimeMs: number },
): Promise<void> {
  const conn = connectionTo(run.hostId);
  try {
    run.actionError.value = undefined;
    if (action === 'postcopy') await conn.call('job.postcopy', { domain: run.name });
    else if (action === 'cancel') {
      run.cancelRequested = true;
      await conn.call('job.abort', { domain: run.name });
    } else
      await conn.call('migration.setMaxDowntime', {
        domain: run.name,
        downtimeMs: action.downtimeMs,
      });
  } catch (err) {
    run.actionError.value = errorMessage(err);
  }
}
