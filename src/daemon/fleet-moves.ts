/**
 * How ferryd carries out one move of a fleet plan: as a migration asked of the source host's
 * ferryd, peer to peer, exactly as `ferry migrate` asks it. A source that is this ferryd runs
 * the migration in process (migrateOut, as migration.start would; no login to itself needed);
 * a remote source gets a connection of its own (FleetMembers.connect) so that its
 * `job.progress` notifications are this move's alone, and the call has no timeout: a move
 * lasts as long as its migration.
 * @module
 */
import { FerryError } from '../common/errors.js';
import { Slots } from '../common/slots.js';
import type { HostClient, MoveOutcome, MoveRunner, PlanHost, PlanRecord } from '../fleet/index.js';
import { LOCAL_HOST_ID, streamLimit } from '../fleet/index.js';
import { moveFlags } from '../fleet/move-flags.js';
import { migrateOut, type SourceOptions } from '../migration/index.js';
import { METHODS, NOTIFICATIONS } from '../rpc/methods.js';
import type { PlannedMove } from '../rpc/schema/fleet-plan.js';
import { MigrateFlags, type JobStats } from '../rpc/schema/migration.js';

export interface FleetMoveServices {
  /** A new connection of its own to a fleet host (FleetMembers.connect). */
  connect(host: { id: string; uri: string }): Promise<HostClient>;
  /** This ferryd's migration source, for moves off this host. */
  local: SourceOptions;
}

function hostOf(plan: PlanRecord, name: string): PlanHost {
  const host = plan.hosts.get(name);
  if (host === undefined)
    throw new FerryError('INTERNAL_ERROR', `The plan names host '${name}' but not how to reach it`);
  return host;
}

/** The flags of a move (as its preflight in the plan used them), with the schema's defaults. */
function flagsOf(move: PlannedMove, persistent: boolean): MigrateFlags {
  return MigrateFlags.parse(moveFlags({ persistent }, move.mode));
}

/** A migration that ended without completing is a failed move, whatever the call said. */
function outcomeOf(stats: JobStats): MoveOutcome {
  if (stats.type !== 'Completed')
    throw new FerryError(
      'OPERATION_FAILED',
      stats.error ?? `the migration ended as ${stats.type.toLowerCase()}`,
    );
  return { downtimeMs: stats.totalDowntimeMs };
}

async function moveOffThisHost(
  local: SourceOptions,
  move: PlannedMove,
  to: PlanHost,
  onProgress: (stats: JobStats) => void,
): Promise<MoveOutcome> {
  const persistent = local.domains.get(move.uuid).persistent;
  const result = await migrateOut(local, move.uuid, to.uri, flagsOf(move, persistent), onProgress);
  return outcomeOf(result.stats);
}

async function moveOffRemoteHost(
  services: FleetMoveServices,
  from: PlanHost,
  move: PlannedMove,
  to: PlanHost,
  onProgress: (stats: JobStats) => void,
): Promise<MoveOutcome> {
  const client = await services.connect({ id: from.id, uri: from.uri });
  const stopListening = client.onAnyNotification((method, params) => {
    if (method !== 'job.progress') return;
    // Checked as the CLI checks them: a malformed sample is dropped rather than trusted.
    const parsed = NOTIFICATIONS['job.progress'].safeParse(params);
    if (parsed.success) onProgress(parsed.data);
  });
  try {
    const info = METHODS['domain.info'].result.parse(
      await client.callRaw('domain.info', { domain: move.uuid }),
    );
    const raw = await client.callRaw(
      'migration.start',
      { domain: move.uuid, destUri: to.uri, flags: flagsOf(move, info.persistent) },
      { timeoutMs: 0 },
    );
    return outcomeOf(METHODS['migration.start'].result.parse(raw).stats);
  } finally {
    stopListening();
    client.close();
  }
}

/**
 * The move runner of one plan. Live moves off one source host copy memory at most
 * streamLimit(its CPUs) at a time: a move off this host holds its slot from the destination's
 * prepare to the stream's completion, a move off another host (whose job runs there) for the
 * whole call.
 */
export function fleetMoveRunner(services: FleetMoveServices, plan: PlanRecord): MoveRunner {
  const slots = new Map<string, Slots>();
  const slotsOf = (host: string): Slots => {
    let s = slots.get(host);
    if (s === undefined) {
      const cpus = plan.plan.hosts.find((h) => h.host === host)?.cpus ?? 1;
      s = new Slots(streamLimit(cpus));
      slots.set(host, s);
    }
    return s;
  };
  return async (move, onProgress) => {
    const from = hostOf(plan, move.from);
    const to = hostOf(plan, move.to);
    const sourceSlots = slotsOf(move.from);
    if (from.id === LOCAL_HOST_ID) {
      const local = { ...services.local, streamSlot: () => sourceSlots.acquire() };
      return moveOffThisHost(local, move, to, onProgress);
    }
    const release = move.mode === 'live' ? await sourceSlots.acquire() : undefined;
    try {
      return await moveOffRemoteHost(services, from, move, to, onProgress);
    } finally {
      release?.();
    }
  };
}
